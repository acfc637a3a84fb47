#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// The stack's NetworkPolicy on the real API server: made when the profile turns it on,
/// pruned when it goes off, and an external backend is reported.
@Suite(.serialized) struct NetworkPolicyIntegrationTests {
    @Test func togglingThePolicyCreatesAndRemovesItAndAnExternalBackendIsReported() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "netpol"
        try await plane.createNamespace(ns)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "development"))
            let resource = ResourceDescriptor(group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies")
            func policy() async throws -> Unstructured? {
                try await plane.client.list(Unstructured.self, resource: resource, namespace: ns).items.first { $0.metadata.name == "app-collector" }
            }
            func condition() async throws -> Condition? {
                try await plane.getIfExists(ObservabilityStack.self, ns, "app")?.status?.condition("NetworkPolicyReady")
            }
            _ = try await eventually("Disabled in development") { try await condition()?.reason == "Disabled" ? true : nil }
            #expect(try await policy() == nil)

            // On: the policy appears, with egress to the API server's real address.
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"networkPolicy":{"enabled":true}}}"#)
            let made = try await eventually("the NetworkPolicy") { try await policy() }
            _ = try await eventually("Applied") { try await condition()?.reason == "Applied" ? true : nil }
            // Egress to the API server: its real address when the cluster publishes the
            // `default/kubernetes` Endpoints, else its ports alone (this bare control plane).
            let endpoints = (try? await plane.kubectl("get", "endpoints", "kubernetes", "-n", "default", "-o", "jsonpath={.subsets[0].addresses[0].ip}")) ?? ""
            let egress = made.object["spec"]?["egress"]?.arrayValue ?? []
            if endpoints.isEmpty {
                #expect(egress.contains { $0["to"] == nil && $0["ports"]?.arrayValue?.contains { $0["port"] == .int(6443) } == true })
            } else {
                #expect("\(egress)".contains(endpoints + "/32"), "egress: \(egress)")
            }
            #expect(made.object["spec"]?["policyTypes"] == ["Ingress", "Egress"])

            // An external backend: open by port only, said plainly.
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"exporters":{"tempo":{"endpoint":"tempo.example.com:4317"}}}}"#)
            let c = try await eventually("ExternalBackendsOpenByPort") { () -> Condition? in
                let c = try await condition()
                return c?.reason == "ExternalBackendsOpenByPort" ? c : nil
            }
            #expect(c.message.contains("tempo.example.com") && c.message.contains("egressTo"))
            _ = try await eventually("the warning event") { () -> Bool? in
                try await plane.kubectl("get", "events", "-n", ns, "-o", "yaml").contains("EgressOpenByPort") ? true : nil
            }

            // Off: pruned.
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"networkPolicy":{"enabled":false}}}"#)
            _ = try await eventually("the NetworkPolicy removed") { try await policy() == nil ? true : nil }
            _ = try await eventually("Disabled again") { try await condition()?.reason == "Disabled" ? true : nil }
            #expect(await vigil.terminate() == 0)
        }
    }
}
