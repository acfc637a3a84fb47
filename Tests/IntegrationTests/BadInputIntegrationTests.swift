#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// Hostile stacks through the real API server: each is refused by the CRD schema or by
/// Vigil, always naming the field, and Vigil does not loop on them.
@Suite(.serialized) struct BadInputIntegrationTests {
    /// A spec fragment (under `spec:`, after `environment:`) and the field it must be blamed on.
    static let cases: [(name: String, spec: String, field: String)] = [
        ("cidr", "  networkPolicy:\n    egressTo: [10.0.0.0/33]\n", "spec.networkPolicy.egressTo[0]"),
        ("duration", "  ingest:\n    tls: {duration: 1x}\n", "spec.ingest.tls.duration"),
        ("overlap", "  ingest:\n    basicAuth:\n      rotation: {interval: 1h, overlap: 2h}\n", "spec.ingest.basicAuth.rotation.overlap"),
        ("no-secret-name", "  ingest:\n    tls: {mode: Secret}\n", "spec.ingest.tls.secretName"),
        ("quantity", "  collector:\n    resources: {limits: {cpu: not-a-quantity}}\n", "spec.collector.resources.limits.cpu"),
        ("missing-secret", "  exporters:\n    tempo: {endpoint: \"tempo.monitoring.svc:4317\", bearerTokenSecret: {name: nope, key: token}}\n", "spec.exporters.tempo.bearerTokenSecret"),
        ("mtls-without-tls", "  ingest:\n    tls: {mode: Disabled, clientAuth: Required}\n    basicAuth: {enabled: false}\n", "spec.ingest.tls.clientAuth"),
        ("latency", "  sampling: {latencyThresholdMs: 99999999999}\n", "spec.sampling.latencyThresholdMs"),
        ("replicas", "  collector:\n    gateway: {replicas: 1000}\n", "spec.collector.gateway.replicas"),
        ("percentage", "  sampling: {percentage: 150}\n", "spec.sampling.percentage"),
        ("cost", "  ingest:\n    basicAuth: {bcryptCost: 9}\n", "spec.ingest.basicAuth.bcryptCost"),
        ("ip", "  ingest:\n    tls: {ipAddresses: [999.1.1.1]}\n", "spec.ingest.tls.ipAddresses[0]"),
        ("dns", "  ingest:\n    tls: {dnsNames: [-bad-]}\n", "spec.ingest.tls.dnsNames[0]"),
        ("same-namespace", "  ingest:\n    basicAuth:\n      clients: [{name: a, namespace: x}, {name: b, namespace: x}]\n", "spec.ingest.basicAuth.clients[1].namespace"),
        ("wrong-type", "  sampling: {percentage: lots}\n", "spec.sampling.percentage"),
        ("huge-string", "  collector:\n    image: \(String(repeating: "x", count: 300_000))\n", "spec.collector.image"),
    ]

    @Test func hostileStacksAreRefusedNamingTheFieldAndCauseNoReconcileLoop() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "hostile"
        try await plane.createNamespace(ns)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            var accepted: [(String, String)] = []
            var longName = String(repeating: "n", count: 253)
            longName.replaceSubrange(longName.startIndex...longName.startIndex, with: "a")
            let all = Self.cases + [(longName, "", "metadata.name")]
            for c in all {
                let yaml = """
                    apiVersion: observability.vigil.dev/v1alpha1
                    kind: ObservabilityStack
                    metadata: {name: \(c.name), namespace: \(ns)}
                    spec:
                      environment: staging

                    """ + c.spec
                do {
                    try await plane.kubectl("apply", "-f", "-", input: yaml)
                    accepted.append((c.name, c.field))
                } catch {
                    // Refused by the CRD's schema: the server's message names the field.
                    #expect("\(error)".contains(c.field.split(separator: "[").first.map(String.init) ?? c.field), "\(c.name): \("\(error)".prefix(300))")
                }
            }
            #expect(accepted.count >= 8, "accepted: \(accepted.map(\.0))")
            for (name, field) in accepted {
                let message = try await eventually("\(name) refused with a reason") { () -> String? in
                    let s = try await plane.getIfExists(ObservabilityStack.self, ns, name)
                    guard let ready = s?.status?.condition("Ready"), ready.status == "False" else { return nil }
                    return s?.status?.conditions?.filter { $0.status == "False" }.map(\.message).joined(separator: " | ")
                }
                #expect(message.contains(field), "\(name): \(message)")
            }

            // No loop: over a minute the reconcile count barely moves.
            let url = try await vigil.endpoint("metrics") + "/metrics"
            func reconciles() async throws -> Double {
                let text = try await run(["curl", "-s", url])
                return text.split(separator: "\n").filter { $0.hasPrefix("controller_runtime_reconcile_total{") }
                    .compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
            }
            let before = try await reconciles()
            try await Task.sleep(nanoseconds: 60_000_000_000)
            let during = try await reconciles() - before
            // A missing Secret or user certificate is looked at again every 30 s; the rest wait
            // for a change.
            #expect(during <= Double(2 * accepted.count), "\(during) reconciles in a minute for \(accepted.count) invalid stacks")
            #expect(vigil.isRunning)
            #expect(await vigil.terminate() == 0)
        }
    }
}
