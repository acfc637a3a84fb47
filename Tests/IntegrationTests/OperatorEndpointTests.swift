#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// Vigil's own /metrics, /healthz and /readyz, scraped from a running operator.
@Suite(.serialized) struct OperatorEndpointTests {
    /// The value of the first sample whose line starts with `prefix` and contains every
    /// one of `having`.
    func sample(_ text: String, _ prefix: String, having: [String] = []) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) && having.allSatisfy({ line.contains($0) }) {
            if let v = line.split(separator: " ").last.flatMap({ Double($0) }) { return v }
        }
        return nil
    }

    func get(_ url: String) async throws -> (code: Int, body: String) {
        let out = try await run(["curl", "-s", "-o", "-", "-w", "\n%{http_code}", url])
        let code = Int(out.split(separator: "\n").last ?? "") ?? 0
        return (code, String(out.dropLast(String(code).count + 1)))
    }

    @Test func metricsAndProbesReportTheReconcilerQueueClientAndEachStacksDeadlines() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "endpoints"
        for n in [ns, "endpoint-apps"] { try await plane.createNamespace(n) }
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            let metricsURL = try await vigil.endpoint("metrics") + "/metrics"
            let probes = try await vigil.endpoint("health probes")
            #expect(try await get(probes + "/healthz").code == 200)
            _ = try await eventually("ready once the caches are synced") { try await get(probes + "/readyz").code == 200 ? true : nil }
            #expect(try await get(probes + "/nothing").code == 404)

            let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: \(ns)}\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "scraped", namespace: ns, environment: "staging", extra: clients))
            let stack = try await eventually("the stack Ready with certificate and credentials status") { () -> ObservabilityStack? in
                let s = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "scraped")
                return s.status?.condition("Ready")?.status == "True" && s.status?.certificate?.notAfter != nil && s.status?.credentials?.nextRotation != nil ? s : nil
            }
            let text = try await eventually("the stack's gauges") { () -> String? in
                let t = try await get(metricsURL).body
                return t.contains("vigil_credentials_next_rotation_timestamp_seconds") ? t : nil
            }
            let labels = ["namespace=\"\(ns)\"", "name=\"scraped\""]
            func epoch(_ s: String?) -> Double? { s.flatMap { try? Date($0, strategy: .iso8601) }?.timeIntervalSince1970 }
            #expect(sample(text, "vigil_certificate_expiration_timestamp_seconds", having: labels) == epoch(stack.status?.certificate?.notAfter))
            #expect(sample(text, "vigil_credentials_next_rotation_timestamp_seconds", having: labels) == epoch(stack.status?.credentials?.nextRotation))
            #expect(sample(text, "vigil_credentials_rotation_phase", having: labels + ["phase=\"Stable\""]) == 1)
            #expect(sample(text, "vigil_credentials_generation", having: labels) == 1)
            // controller-runtime's series, moving.
            let reconciles = ["success", "requeue_after"].compactMap { sample(text, "controller_runtime_reconcile_total", having: ["result=\"\($0)\""]) }.reduce(0, +)
            #expect(reconciles > 0)
            #expect(sample(text, "controller_runtime_reconcile_errors_total") != nil)
            #expect((sample(text, "workqueue_adds_total") ?? 0) > 0)
            #expect(sample(text, "workqueue_depth") != nil)
            #expect((sample(text, "controller_runtime_reconcile_time_seconds_count") ?? 0) > 0)
            #expect((sample(text, "workqueue_queue_duration_seconds_count") ?? 0) > 0)
            #expect((sample(text, "rest_client_requests_total", having: ["code=\"200\"", "method=\"GET\""]) ?? 0) > 0)
            #expect((sample(text, "rest_client_requests_total", having: ["method=\"PATCH\""]) ?? 0) > 0)

            // An edit moves the reconcile count.
            try await plane.kubectl("patch", "observabilitystack", "scraped", "-n", ns, "--type=merge", "-p", #"{"spec":{"sampling":{"percentage":42}}}"#)
            _ = try await eventually("the reconcile count to move") { () -> Bool? in
                let t = try await get(metricsURL).body
                let now = ["success", "requeue_after"].compactMap { sample(t, "controller_runtime_reconcile_total", having: ["result=\"\($0)\""]) }.reduce(0, +)
                return now > reconciles ? true : nil
            }

            // No password or hash reaches the metrics.
            let secrets = try await plane.secretData(ns, "scraped-credentials") ?? [:]
            #expect(!secrets.isEmpty)
            let latest = try await get(metricsURL).body
            for v in secrets.values { #expect(!latest.contains(v)) }

            // The stack deleted: its gauges go.
            try await plane.kubectl("delete", "observabilitystack", "scraped", "-n", ns)
            _ = try await eventually("the stack's gauges removed") { () -> Bool? in
                try await get(metricsURL).body.contains("name=\"scraped\"") ? nil : true
            }
            // SIGTERM: no new work, the reconciles in flight finish, then a clean exit.
            #expect(await vigil.terminate() == 0)
            #expect(vigil.log.contains("shutting down: no new work") && vigil.log.contains("stopped"))
        }
    }
}
