#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// On the real API server: a stack writes nothing it does not own, and publishes into
/// another namespace only with that namespace's consent.
@Suite(.serialized) struct OwnershipIntegrationTests {
    /// The dev/prod hijack of the tenancy review, refused.
    @Test func aDevStackCannotTakeOverProductionsClientSecret() async throws {
        // Its own control plane: Vigil watches every namespace here (consent needs it).
        try await withOwnControlPlane(name: "hijack") { plane in
            try await plane.installCRD()
            try await hijackScenario(plane)
        }
    }

    func hijackScenario(_ plane: ControlPlane) async throws {
        for n in ["hj-dev", "hj-prod"] { try await plane.createNamespace(n) }
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: nil) { vigil in
            let prodClients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: hj-prod}\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "bench", namespace: "hj-prod", environment: "staging", extra: prodClients))
            let prodName = "hj-prod.bench-otlp-client"
            let prod = try await eventually("production's client Secret") { try await plane.getIfExists(Secret.self, "hj-prod", prodName) }

            // The dev stack, whose author has rights in hj-dev only, names a client in hj-prod.
            let devClients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: x, namespace: hj-prod}\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "bench", namespace: "hj-dev", environment: "staging", extra: devClients))
            let pending = try await eventually("the dev client Pending") { () -> Condition? in
                let c = try await plane.getIfExists(ObservabilityStack.self, "hj-dev", "bench")?.status?.condition("CredentialsReady")
                return c?.reason == "ConsentPending" ? c : nil
            }
            #expect(pending.message.contains("x (namespace hj-prod)") && pending.message.contains("accept-stacks=hj-dev/bench"))
            _ = try await eventually("the ConsentPending event") { () -> Bool? in
                try await plane.kubectl("get", "events", "-n", "hj-dev", "-o", "yaml").contains("ConsentPending") ? true : nil
            }
            // Nothing of the dev stack's in hj-prod; production's Secret untouched.
            func vigilSecretsInProd() async throws -> [String] {
                try await plane.client.list(Secret.self, namespace: "hj-prod", labelSelector: "app.kubernetes.io/managed-by=vigil").items.compactMap(\.metadata.name).sorted()
            }
            let inProd = try await vigilSecretsInProd()
            #expect(inProd == ["bench-alertmanager", "bench-ca", "bench-credentials", "bench-htpasswd", "bench-ingest-tls", prodName].sorted(), "\(inProd)")
            #expect(try await plane.getIfExists(Secret.self, "hj-prod", prodName) == prod)

            // Consent given: the dev stack's Secret has its own name; production's is unchanged.
            try await plane.accept(["hj-dev/bench"], in: "hj-prod")
            _ = try await eventually("the dev stack's Secret in hj-prod") { try await plane.getIfExists(Secret.self, "hj-prod", "hj-dev.bench-otlp-client") }
            // Revoked: it goes.
            try await plane.accept([], in: "hj-prod")
            _ = try await eventually("the dev stack's Secret removed") { try await plane.getIfExists(Secret.self, "hj-prod", "hj-dev.bench-otlp-client") == nil ? true : nil }
            // Deleting the dev stack leaves production's Secret in place, byte for byte.
            try await plane.kubectl("delete", "observabilitystack", "bench", "-n", "hj-dev")
            _ = try await eventually("the dev stack gone") { try await plane.getIfExists(ObservabilityStack.self, "hj-dev", "bench") == nil ? true : nil }
            try await Task.sleep(nanoseconds: 2_000_000_000)
            #expect(try await plane.getIfExists(Secret.self, "hj-prod", prodName) == prod)
            #expect(await vigil.terminate() == 0)
        }
    }

    /// Objects that exist with the names a stack would give its own: left byte-identical,
    /// reported, never deleted.
    @Test func preExistingObjectsWithGeneratedNamesAreLeftAloneAndReported() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "squat"
        try await plane.createNamespace(ns)
        let squatters = """
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: app-collector, namespace: squat}
            data: {mine: "yes"}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: app-htpasswd, namespace: squat}
            stringData: {htpasswd: "someone:else"}
            ---
            apiVersion: v1
            kind: ServiceAccount
            metadata: {name: app-collector, namespace: squat}
            ---
            apiVersion: apps/v1
            kind: DaemonSet
            metadata: {name: app-collector, namespace: squat}
            spec:
              selector: {matchLabels: {app: theirs}}
              template:
                metadata: {labels: {app: theirs}}
                spec: {containers: [{name: c, image: "example/theirs:1"}]}
            """
        try await plane.kubectl("apply", "-f", "-", input: squatters)
        func snapshot() async throws -> [String: String] {
            var out: [String: String] = [:]
            for (kind, name) in [("configmap", "app-collector"), ("secret", "app-htpasswd"), ("serviceaccount", "app-collector"), ("daemonset", "app-collector")] {
                out["\(kind)/\(name)"] = try await plane.kubectl("get", kind, name, "-n", ns, "-o", "json")
            }
            return out
        }
        let before = try await snapshot()
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging"))
            let ready = try await eventually("OwnershipConflict") { () -> Condition? in
                let c = try await plane.getIfExists(ObservabilityStack.self, ns, "app")?.status?.condition("Ready")
                return c?.reason == "OwnershipConflict" ? c : nil
            }
            for object in ["ConfigMap squat/app-collector", "Secret squat/app-htpasswd", "ServiceAccount squat/app-collector", "DaemonSet squat/app-collector"] {
                #expect(ready.message.contains("\(object) exists and is not managed by Vigil"), "\(ready.message)")
            }
            _ = try await eventually("the OwnershipConflict event") { () -> Bool? in
                try await plane.kubectl("get", "events", "-n", ns, "-o", "yaml").contains("OwnershipConflict") ? true : nil
            }
            // The rest of the stack is there.
            _ = try await eventually("the stack's Prometheus ConfigMap") { try await plane.getIfExists(ConfigMap.self, ns, "app-prometheus") }
            #expect(try await snapshot() == before)
            // Deleting the stack deletes nothing of theirs.
            try await plane.kubectl("delete", "observabilitystack", "app", "-n", ns)
            _ = try await eventually("the stack's Prometheus ConfigMap gone") { try await plane.getIfExists(ConfigMap.self, ns, "app-prometheus") == nil ? true : nil }
            #expect(try await snapshot() == before)
            #expect(await vigil.terminate() == 0)
        }
    }

    /// Argo CD tracks `app.kubernetes.io/instance`: Vigil no longer stamps it. Objects an
    /// earlier version wrote with it (server-side applied by the `vigil` field manager) lose
    /// it on the next reconcile; the DaemonSet's immutable selector on it stays, without a 422.
    @Test func objectsWrittenWithTheInstanceLabelLoseItAndTheWorkloadKeepsItsSelector() async throws {
        try await withOwnControlPlane(name: "relabel") { plane in
            try await plane.installCRD()
            try await plane.createNamespace("upg")
            let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: upg}\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "obs", namespace: "upg", environment: "staging", extra: clients))
            let uid = try #require(try await plane.getIfExists(ObservabilityStack.self, "upg", "obs")?.metadata.uid)
            // What the earlier version left: its DaemonSet and client Secret.
            let legacy = "{app.kubernetes.io/instance: obs, app.kubernetes.io/component: agent}"
            let owner = "[{apiVersion: observability.vigil.dev/v1alpha1, kind: ObservabilityStack, name: obs, uid: \(uid), controller: true, blockOwnerDeletion: true}]"
            try await plane.kubectl("apply", "--server-side", "--field-manager=vigil", "-f", "-", input: """
                apiVersion: apps/v1
                kind: DaemonSet
                metadata:
                  name: obs-collector
                  namespace: upg
                  labels: {app.kubernetes.io/managed-by: vigil, app.kubernetes.io/instance: obs}
                  ownerReferences: \(owner)
                spec:
                  selector: {matchLabels: \(legacy)}
                  template:
                    metadata: {labels: \(legacy)}
                    spec: {containers: [{name: otc-container, image: otel/opentelemetry-collector-contrib:0.120.1}]}
                ---
                apiVersion: v1
                kind: Secret
                metadata:
                  name: upg.obs-otlp-client
                  namespace: upg
                  labels: {app.kubernetes.io/managed-by: vigil, app.kubernetes.io/instance: obs, observability.vigil.dev/stack-namespace: upg, observability.vigil.dev/stack-uid: \(uid)}
                """)
            try await withVigil(kubeconfig: plane.kubeconfig, namespace: nil) { vigil in
                let stack = try await eventually("Ready", timeout: 60) { () -> ObservabilityStack? in
                    let s = try await plane.getIfExists(ObservabilityStack.self, "upg", "obs")
                    return s?.status?.condition("Ready")?.isTrue == true && s?.status?.condition("CredentialsReady")?.isTrue == true ? s : nil
                }
                #expect(stack.status?.condition("Stalled")?.isTrue == false)
                #expect(!vigil.log.contains("ObjectRejected") && !vigil.log.contains("OwnershipConflict"))
                let selector = try await plane.kubectl("get", "ds", "obs-collector", "-n", "upg", "-o", "jsonpath={.spec.selector.matchLabels}")
                #expect(selector.contains("\"app.kubernetes.io/instance\":\"obs\"") && !selector.contains("observability.vigil.dev/stack"), "\(selector)")
                let template = try await plane.kubectl("get", "ds", "obs-collector", "-n", "upg", "-o", "jsonpath={.spec.template.metadata.labels}")
                #expect(template.contains("\"app.kubernetes.io/instance\":\"obs\"") && template.contains("\"observability.vigil.dev/stack\":\"obs\""), "\(template)")
                // The client Secret is still the stack's, now with Vigil's own label.
                let secret = try await eventually("the client Secret relabelled") { () -> Secret? in
                    let s = try await plane.getIfExists(Secret.self, "upg", "upg.obs-otlp-client")
                    return s?.metadata.labels?["observability.vigil.dev/stack"] == "obs" ? s : nil
                }
                #expect(secret.data?["OTEL_EXPORTER_OTLP_ENDPOINT"] != nil)
                // Nothing Vigil wrote carries Argo CD's tracking label any more.
                let tracked = try await plane.kubectl(
                    "get", "daemonsets,services,configmaps,secrets,serviceaccounts,networkpolicies", "-n", "upg", "-l", "app.kubernetes.io/instance", "-o", "name")
                #expect(tracked.isEmpty, "\(tracked)")
                let own = try await plane.kubectl("get", "daemonsets,services,configmaps,secrets,networkpolicies", "-n", "upg", "-l", "observability.vigil.dev/stack=obs", "-o", "name")
                #expect(own.contains("daemonset.apps/obs-collector") && own.contains("secret/upg.obs-otlp-client") && own.contains("configmap/obs-collector"), "\(own)")
            }
        }
    }
}
