#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// The stack's NetworkPolicy on the real API server: made when the profile turns it on,
/// the health port's peers following the Node objects, pruned when it goes off, and an
/// external backend is reported.
@Suite(.serialized) struct NetworkPolicyIntegrationTests {
    @Test func togglingThePolicyCreatesAndRemovesItNodesSetTheHealthPeersAndAnExternalBackendIsReported() async throws {
        // Its own control plane: the Nodes this test adds would give other tests' DaemonSets
        // pods to wait for.
        try await withOwnControlPlane(name: "netpol") { plane in
            try await plane.installCRD()
            try await scenario(plane)
        }
    }

    func scenario(_ plane: ControlPlane) async throws {
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

            // On: the policy appears.
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"networkPolicy":{"enabled":true}}}"#)
            let made = try await eventually("the NetworkPolicy") { try await policy() }
            func healthPeers() async throws -> [String]? {
                let rule = try await policy()?.object["spec"]?["ingress"]?.arrayValue?.first { $0["ports"]?.arrayValue?.first?["port"] == .int(13133) }
                return rule?["from"]?.arrayValue?.compactMap { $0["ipBlock"]?["cidr"]?.stringValue }
            }
            /// The egress rule to the API server's ports: nil when there is none, its peers
            /// (empty when open to every address) otherwise.
            func apiServerPeers() async throws -> [String]? {
                let rule = try await policy()?.object["spec"]?["egress"]?.arrayValue?.first {
                    $0["ports"]?.arrayValue?.contains { $0["port"] == .int(6443) || $0["port"] == .int(443) } == true
                }
                return rule.map { ($0["to"]?.arrayValue ?? []).compactMap { $0["ipBlock"]?["cidr"]?.stringValue } }
            }
            // k8sattributes (on by default) reaches the API server; with no address known, its
            // ports are open by port only, and the status says so.
            #expect(try await apiServerPeers() == [])
            // This control plane has no Node: the health port is open, and the status says so.
            let open = try await eventually("HealthPortOpen") { () -> Condition? in
                let c = try await condition()
                return c?.reason == "HealthPortOpen" ? c : nil
            }
            #expect(open.message.contains("13133") && open.message.contains("nodeCIDRs"))
            #expect(try await healthPeers() == nil)
            // A Node joins: its address becomes the only peer of the health port, and the
            // warning goes. A second node adds its address; a deleted one takes it away.
            func addNode(_ name: String, _ ip: String) async throws {
                try await plane.kubectl("apply", "-f", "-", input: "apiVersion: v1\nkind: Node\nmetadata: {name: \(name)}\n")
                let patch = #"{"status":{"addresses":[{"type":"InternalIP","address":"\#(ip)"},{"type":"Hostname","address":"\#(name)"}]}}"#
                try await plane.kubectl("patch", "node", name, "--subresource=status", "--type=merge", "-p", patch)
            }
            try await addNode("np-node-1", "172.31.0.11")
            _ = try await eventually("the node's address as the peer") { try await healthPeers() == ["172.31.0.11/32"] ? true : nil }
            // The API server where kubeadm, kind and k3s run it: on the nodes.
            #expect(try await apiServerPeers() == ["172.31.0.11/32"])
            _ = try await eventually("Applied") { try await condition()?.reason == "Applied" ? true : nil }
            try await addNode("np-node-2", "172.31.0.12")
            _ = try await eventually("both nodes") { try await healthPeers() == ["172.31.0.11/32", "172.31.0.12/32"] ? true : nil }
            try await plane.kubectl("delete", "node", "np-node-2")
            _ = try await eventually("one node again") { try await healthPeers() == ["172.31.0.11/32"] ? true : nil }
            try await plane.kubectl("delete", "node", "np-node-1")
            let reopened = try await eventually("open again, and said so") { () -> Condition? in
                let c = try await condition()
                return c?.reason == "HealthPortOpen" ? c : nil
            }
            #expect(reopened.message.contains("apiServerCIDRs"), "\(reopened.message)")
            #expect(made.object["spec"]?["policyTypes"] == ["Ingress", "Egress"])
            // Given where the API server answers, only there; without k8sattributes, no rule.
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"networkPolicy":{"apiServerCIDRs":["192.0.2.0/28"]}}}"#)
            _ = try await eventually("the API server's CIDR") { try await apiServerPeers() == ["192.0.2.0/28"] ? true : nil }
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"collector":{"kubernetesAttributes":{"enabled":false}}}}"#)
            _ = try await eventually("no egress to the API server") { try await apiServerPeers() == nil ? true : nil }

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
