#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// The user's Secrets a stack names (backend credentials and CAs): watched, so a created or
/// changed one acts at once, not at the next resync.
@Suite(.serialized) struct ReferencedSecretTests {
    @Test func aMissingBackendSecretBlocksUntilCreatedAndAChangedOneRollsTheCollector() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "refs"
        try await plane.createNamespace(ns)
        // The resync an hour away: whatever happens within the waits below is the watch's doing.
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns, extra: ["--log-format", "json", "--resync-period", "3600"]) { vigil in
            let loki = "    loki:\n      endpoint: https://loki.example.com/otlp\n      credentialsSecret:\n        name: loki-creds\n"
            let yaml = stackYAML(name: "app", namespace: ns, environment: "staging").replacingOccurrences(of: "  exporters:\n", with: "  exporters:\n" + loki)
            try await plane.kubectl("apply", "-f", "-", input: yaml)
            func stack() async throws -> ObservabilityStack? { try await plane.getIfExists(ObservabilityStack.self, ns, "app") }
            let refused = try await eventually("ConfigValid=False naming the Secret") { () -> Condition? in
                let c = try await stack()?.status?.condition("ConfigValid")
                return c?.reason == "SecretNotFound" ? c : nil
            }
            #expect(refused.message.contains("loki-creds") && refused.message.contains("spec.exporters.loki.credentialsSecret"))
            #expect(try await plane.getIfExists(ConfigMap.self, ns, "app-collector") == nil)

            // Created: the watch wakes the stack.
            func putSecret(_ password: String) async throws {
                try await plane.kubectl("apply", "-f", "-", input: """
                    apiVersion: v1
                    kind: Secret
                    metadata: {name: loki-creds, namespace: \(ns)}
                    stringData: {username: vigil, password: \(password)}
                    """)
            }
            try await putSecret("first-value")
            // Vigil's own writes first; Ready also waits for kube-controller-manager's
            // DaemonSet and Deployment controllers, which other suites keep busy in CI.
            _ = try await eventually("the collector's ConfigMap once the Secret exists") { try await plane.getIfExists(ConfigMap.self, ns, "app-collector") }
            _ = try await eventually("Ready once the Secret exists", timeout: 180) { try await stack()?.status?.condition("Ready")?.status == "True" ? true : nil }
            let dsResource = ResourceDescriptor(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets")
            func templateHash() async throws -> String? {
                try await plane.client.list(Unstructured.self, resource: dsResource, namespace: ns).items.first?
                    .object["spec"]?["template"]?["metadata"]?["annotations"]?["observability.vigil.dev/config-hash"]?.stringValue
            }
            let before = try await eventually("the DaemonSet") { try await templateHash() }

            // Changed: the collector reads it at start, so the pods roll.
            try await putSecret("second-value")
            _ = try await eventually("the pod template to change") { () -> Bool? in
                try await templateHash() != before ? true : nil
            }
            for value in ["first-value", "second-value"] { #expect(!vigil.log.contains(value)) }
            // --log-format json: every line is one object; a reconcile's lines carry its stack
            // and a reconcile id.
            var reconcileLines = 0
            for line in vigil.log.split(separator: "\n") {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["msg"] != nil && object?["level"] != nil && object?["ts"] != nil, "not a JSON log line: \(line.prefix(200))")
                if object?["stack"] as? String == "\(ns)/app" {
                    reconcileLines += 1
                    #expect(object?["reconcileID"] is String && object?["namespace"] as? String == ns && object?["name"] as? String == "app")
                }
            }
            #expect(reconcileLines > 0)
            #expect(await vigil.terminate() == 0)
        }
    }
}
