#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Render
import Testing

/// Vigil against a real kube-apiserver: the walking skeleton's acceptance.
@Suite(.serialized) struct ReconcileTests {
    func configMap(_ plane: ControlPlane, _ ns: String, _ name: String) async throws -> ConfigMap? {
        try await plane.getIfExists(ConfigMap.self, ns, name)
    }

    func stackStatus(_ plane: ControlPlane, _ ns: String, _ name: String) async throws -> ObservabilityStack {
        try await plane.client.get(ObservabilityStack.self, namespace: ns, name: name)
    }

    @Test func aStackConvergesFollowsEditsHealsAndIsGarbageCollected() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "lifecycle"
        try await plane.createNamespace(ns)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in

            // Create: the ConfigMap appears, owned by the stack, and the stack is Ready.
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns))
            let cm = try await eventually("the ConfigMap") { try await configMap(plane, ns, "app-collector") }
            let stack = try await stackStatus(plane, ns, "app")
            #expect(cm.metadata.ownerReferences?.first?.uid == stack.metadata.uid)
            #expect(cm.metadata.ownerReferences?.first?.controller == true)
            #expect(cm.metadata.labels?["app.kubernetes.io/managed-by"] == "vigil")
            #expect(cm.data?["config.yaml"]?.contains("sampling_percentage: 10") == true)
            let ready = try await eventually("Ready=True at generation 1") { () -> ObservabilityStack? in
                let s = try await stackStatus(plane, ns, "app")
                return s.status?.condition("Ready")?.status == "True" && s.status?.observedGeneration == s.metadata.generation ? s : nil
            }
            #expect(ready.status?.condition("ConfigValid")?.status == "True")
            #expect(ready.status?.configHash?.count == 64)
            #expect(ready.status?.endpoints?.grpc == "https://app-collector.\(ns).svc:4317")

            // Edit: the ConfigMap follows, and observedGeneration moves.
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"sampling":{"percentage":42}}}"#)
            _ = try await eventually("the edited ConfigMap") { () -> ConfigMap? in
                let c = try await configMap(plane, ns, "app-collector")
                return c?.data?["config.yaml"]?.contains("sampling_percentage: 42") == true ? c : nil
            }
            _ = try await eventually("observedGeneration 2") { () -> Bool? in
                let s = try await stackStatus(plane, ns, "app")
                return s.status?.observedGeneration == 2 && s.metadata.generation == 2 ? true : nil
            }

            // Delete the ConfigMap by hand: it comes back.
            let uidBefore = try await configMap(plane, ns, "app-collector")?.metadata.uid
            try await plane.kubectl("delete", "configmap", "app-collector", "-n", ns, "--wait=true")
            let restored = try await eventually("the restored ConfigMap") { () -> ConfigMap? in
                let c = try await configMap(plane, ns, "app-collector")
                return c != nil && c?.metadata.uid != uidBefore ? c : nil
            }
            #expect(restored.data?["config.yaml"]?.contains("sampling_percentage: 42") == true)

            // Edit the ConfigMap by hand: Vigil puts its fields back.
            try await plane.kubectl("patch", "configmap", "app-collector", "-n", ns, "--type=merge", "-p", #"{"data":{"config.yaml":"tampered"}}"#)
            _ = try await eventually("the repaired ConfigMap") { () -> Bool? in
                try await configMap(plane, ns, "app-collector")?.data?["config.yaml"]?.contains("sampling_percentage: 42") == true ? true : nil
            }

            // An invalid stack beside it gets ConfigValid=False naming the field; the valid one stays Ready.
            try await plane.kubectl(
                "apply", "-f", "-",
                input: stackYAML(
                    name: "broken", namespace: ns,
                    extra: "  collector:\n    memoryLimiter:\n      limitMiB: 512\n      spikeLimitMiB: 600\n"
                )
            )
            let broken = try await eventually("ConfigValid=False on the invalid stack") { () -> ObservabilityStack? in
                let s = try await stackStatus(plane, ns, "broken")
                return s.status?.condition("ConfigValid")?.status == "False" ? s : nil
            }
            #expect(broken.status?.condition("ConfigValid")?.reason == "InvalidSpec")
            #expect(broken.status?.condition("ConfigValid")?.message.contains("spec.collector.memoryLimiter.spikeLimitMiB") == true)
            #expect(broken.status?.condition("Ready")?.status == "False")
            #expect(try await configMap(plane, ns, "broken-collector") == nil)
            let events = try await plane.kubectl("get", "events", "-n", ns, "--field-selector", "involvedObject.name=broken", "-o", "jsonpath={.items[*].reason}")
            #expect(events.contains("InvalidSpec"))
            #expect(try await stackStatus(plane, ns, "app").status?.condition("Ready")?.status == "True")

            // Fixing the spec makes it Ready.
            try await plane.kubectl("patch", "observabilitystack", "broken", "-n", ns, "--type=merge", "-p", #"{"spec":{"collector":{"memoryLimiter":{"spikeLimitMiB":100}}}}"#)
            _ = try await eventually("the fixed stack Ready") { () -> Bool? in
                try await stackStatus(plane, ns, "broken").status?.condition("Ready")?.status == "True" ? true : nil
            }

            // Delete the stack: the garbage collector removes its ConfigMap.
            try await plane.kubectl("delete", "observabilitystack", "app", "-n", ns)
            _ = try await eventually("the ConfigMap garbage-collected", timeout: 60) { () -> Bool? in
                try await configMap(plane, ns, "app-collector") == nil ? true : nil
            }

            // SIGTERM: a clean exit.
            let status = await vigil.terminate()
            #expect(status == 0, "vigil did not exit cleanly on SIGTERM; log:\n\(vigil.log.suffix(2000))")
            #expect(vigil.log.contains("stopped"))
        }
    }

    /// The golden files themselves are valid Kubernetes objects.
    @Test func theGoldenFilesPassAServerSideDryRun() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let namespaces = ["development": "fba-dev", "staging": "fba-staging", "production": "fba-prod"]
        for env in ["development", "staging", "production"] {
            let path = repoRoot.appendingPathComponent("Tests/RenderTests/Golden/\(env).yaml").path
            // In a namespace of its own: other suites apply the examples into fba-* on this
            // control plane at the same time, and a dry-run create of an object they create
            // meanwhile fails with AlreadyExists.
            let ns = "golden-\(namespaces[env]!)"
            try await plane.createNamespace(ns)
            // Kubernetes 1.20 serves PodDisruptionBudget as policy/v1beta1 only (v1 from 1.21,
            // which Vigil writes where discovery finds it): the same object, that version.
            let golden = try String(contentsOfFile: path, encoding: .utf8)
                .replacingOccurrences(of: "apiVersion: policy/v1\nkind: PodDisruptionBudget", with: "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget")
                .replacingOccurrences(of: namespaces[env]!, with: ns)
            let out = try await plane.kubectl("apply", "--dry-run=server", "-f", "-", input: golden)
            for object in ["serviceaccount/fba-bench-collector", "configmap/fba-bench-collector", "service/fba-bench-collector", "daemonset.apps/fba-bench-collector"] {
                #expect(out.contains(object), "\(env): \(out)")
            }
            #expect(out.contains("rolebinding.rbac.authorization.k8s.io/\(ns).fba-bench-collector"), "\(out)")
            if env != "development" {
                #expect(out.contains("deployment.apps/fba-bench-gateway") && out.contains("service/fba-bench-gateway-headless"), "\(out)")
                #expect(out.contains("poddisruptionbudget.policy/fba-bench-gateway"), "\(out)")
            }
        }
    }

    @Test func theExamplesApplyToTheRealServer() async throws {
        let plane = try await SharedControlPlane.shared.get()
        for ns in ["fba-dev", "fba-staging", "fba-prod"] { try await plane.createNamespace(ns) }
        for env in ["development", "staging", "production"] {
            let out = try await plane.kubectl("apply", "--dry-run=server", "-f", repoRoot.appendingPathComponent("examples/\(env).yaml").path)
            #expect(out.contains("observabilitystack.observability.vigil.dev/fba-bench"))
        }
    }

    @Test func theCRDRejectsWhatItsSchemaForbids() async throws {
        let plane = try await SharedControlPlane.shared.get()
        try await plane.createNamespace("schema")
        await #expect {
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "env", namespace: "schema", environment: "qa"))
        } throws: { "\($0)".contains("spec.environment") }
        await #expect {
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "sample", namespace: "schema", extra: "  sampling:\n    percentage: 250\n"))
        } throws: { "\($0)".contains("spec.sampling.percentage") }
        let explain = try await plane.kubectl("explain", "observabilitystack.spec.ingest.tls")
        #expect(explain.contains("clientAuth"))
        try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "columns", namespace: "schema"))
        let columns = try await plane.kubectl("get", "obs", "-n", "schema")
        #expect(columns.contains("ENVIRONMENT") && columns.contains("READY") && columns.contains("COLLECTORS") && columns.contains("CERT EXPIRES"))
    }
}
