#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// On the real API server: the previous credential stays while a pod that reads the
/// client Secret predates the new one, the status names that pod, and the credential goes
/// once the pod is replaced. Pods never run here: the test writes their start time as a
/// kubelet would.
@Suite(.serialized) struct ConsumerIntegrationTests {
    @Test func theOldCredentialWaitsForThePodsThatUseTheSecret() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "consume"
        try await plane.createNamespace(ns)
        // No service-account controller runs here: the pods' account is made by hand.
        try await plane.kubectl("apply", "-f", "-", input: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: consume}\n")
        let secretName = "consume.app-otlp-client"
        func pod(_ name: String) async throws {
            try await plane.consumerPod(name, namespace: ns, secret: secretName, startTime: Date())
        }
        func users() async throws -> [String] {
            let file = try await plane.secretData(ns, "app-htpasswd")?["htpasswd"] ?? ""
            return file.split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
        }
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            let extra = """
                  ingest:
                    basicAuth:
                      clients: [{name: api, namespace: consume}]
                      rotation: {interval: 30d, overlap: 2s, maxOverlap: 1h}

                """
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: extra))
            _ = try await eventually("the client Secret") { try await plane.getIfExists(Secret.self, ns, secretName) }
            try await pod("app-1")
            // Start times are whole seconds: the rotation comes in a later one.
            try await Task.sleep(nanoseconds: 1_100_000_000)
            // A rotation: generation 2 is published.
            try await plane.kubectl("annotate", "observabilitystack", "app", "-n", ns, "observability.vigil.dev/rotate-credentials=r1")
            _ = try await eventually("generation 2 published") { () -> Bool? in
                try await plane.getIfExists(Secret.self, ns, secretName)?.metadata.annotations?["observability.vigil.dev/credential-generation"] == "2" ? true : nil
            }
            // The overlap (2 s) is long over; app-1 started before: generation 1 stays, and the pod is named.
            let stale = try await eventually("the stale pod in status") { () -> [String]? in
                try await plane.getIfExists(ObservabilityStack.self, ns, "app")?.status?.credentials?.staleConsumers
            }
            #expect(stale == ["consume/app-1"])
            try await Task.sleep(nanoseconds: 3_000_000_000)
            #expect(try await users() == ["api-g1", "api-g2"])
            _ = try await eventually("the StaleConsumers event") { () -> Bool? in
                try await plane.kubectl("get", "events", "-n", ns, "-o", "yaml").contains("StaleConsumers") ? true : nil
            }
            // The pod is replaced by one that starts now: generation 1 leaves.
            try await plane.kubectl("delete", "pod", "app-1", "-n", ns, "--grace-period=0", "--force")
            try await Task.sleep(nanoseconds: 1_100_000_000)
            try await pod("app-2")
            _ = try await eventually("generation 1 removed") { try await users() == ["api-g2"] ? true : nil }
            #expect(try await plane.getIfExists(ObservabilityStack.self, ns, "app")?.status?.credentials?.staleConsumers == nil)
            #expect(await vigil.terminate() == 0)
        }
    }
}
