#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// Another writer on the same stack at the same time: its writes make Vigil's guarded
/// writes conflict (409), which requeue without counting as errors, and its own status
/// condition survives Vigil's status writes.
@Suite(.serialized) struct ConflictTests {
    @Test func aConcurrentWriterCausesRequeuesNotErrorsAndKeepsItsCondition() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "conflicts"
        for n in [ns, "conflict-apps"] { try await plane.createNamespace(n) }
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: \(ns)}\n"
            let resource = ObservabilityStack.resource
            // The writer starts before the stack exists, so its first reconciles race it.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for i in 0..<60 {
                        let condition: JSONValue = [
                            "type": "ExternalAudit", "status": "True", "reason": "Checked", "message": .string("pass \(i)"),
                            "lastTransitionTime": "2026-11-25T00:00:00Z",
                        ]
                        _ = try? await plane.client.mergePatch(["metadata": ["labels": ["touched": .string(String(i))]]], resource: resource, namespace: ns, name: "app")
                        _ = try? await plane.client.apply(
                            ["apiVersion": .string(resource.apiVersion), "kind": .string(resource.kind), "metadata": ["name": "app", "namespace": .string(ns)],
                             "status": ["conditions": [condition]]],
                            resource: resource, namespace: ns, name: "app", subresource: "status"
                        )
                        try await Task.sleep(nanoseconds: 100_000_000)
                    }
                }
                try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: clients))
                for p in [11, 12, 13] {
                    try await Task.sleep(nanoseconds: 700_000_000)
                    try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"sampling":{"percentage":\#(p)}}}"#)
                }
                try await group.waitForAll()
            }
            let stack = try await eventually("converged on the last edit") { () -> ObservabilityStack? in
                let s = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "app")
                return s.status?.condition("Ready")?.status == "True" && s.status?.observedGeneration == s.metadata.generation ? s : nil
            }
            let cm = try await plane.client.get(ConfigMap.self, namespace: ns, name: "app-collector")
            #expect(cm.data?["config.yaml"]?.contains("sampling_percentage: 13") == true)
            // The other writer's condition is still there: conditions are a map by type.
            #expect(stack.status?.condition("ExternalAudit")?.message == "pass 59")
            #expect(stack.metadata.finalizers?.contains("observability.vigil.dev/client-secrets") == true)
            let metrics = try await run(["curl", "-s", try await vigil.endpoint("metrics") + "/metrics"])
            let errors = metrics.split(separator: "\n").first { $0.hasPrefix("controller_runtime_reconcile_errors_total") }
            #expect(errors?.hasSuffix(" 0") == true || errors?.hasSuffix(" 0.0") == true, "\(errors ?? "no errors series")")
            #expect(await vigil.terminate() == 0)
        }
    }
}
