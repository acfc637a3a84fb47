import Foundation
import KubeModel
import Testing

/// `CollectorAvailable` and `Ready` follow the collector's pods as Kubernetes' own
/// controllers report them: on a real API server with the PodSecurityPolicy admission
/// plugin (1.20's Pod Security) and a ResourceQuota, a Node registered by hand so that the
/// DaemonSet controller creates agent pods and the ReplicaSet controller the gateway's, and
/// no kubelet: the test marks admitted pods Ready as a kubelet would.
@Suite(.serialized) struct AvailabilityIntegrationTests {
    static let controllers = "garbagecollector,namespace,daemonset,deployment,replicaset,resourcequota"

    @Test func podsRefusedByPodSecurityOrAQuotaShowInStatusAndAdmittedPodsMakeItReady() async throws {
        try await withOwnControlPlane(name: "availability", apiserverArgs: "--enable-admission-plugins=PodSecurityPolicy", controllers: Self.controllers) { plane in
            try await plane.installCRD()
            try await plane.createNamespace("shop")
            // Pod Security: only a policy without host paths, which the agents need.
            try await plane.kubectl("apply", "-f", "-", input: Self.policy(name: "restricted", hostPaths: false))
            // A quota that leaves no room for the gateway's pods.
            try await plane.kubectl("apply", "-f", "-", input: "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: pods, namespace: shop}\nspec:\n  hard: {pods: \"0\"}\n")
            _ = try await eventually("the quota's usage counted") { () -> Bool? in
                let used = try await plane.kubectl("get", "resourcequota", "pods", "-n", "shop", "-o", "jsonpath={.status.used.pods}")
                return used == "0" ? true : nil
            }
            // A node as a kubelet registers it: the API server taints a new node not-ready,
            // which the node lifecycle controller (and a kubelet) would lift.
            try await plane.kubectl("apply", "-f", "-", input: "apiVersion: v1\nkind: Node\nmetadata:\n  name: node-1\n  labels: {kubernetes.io/os: linux, kubernetes.io/hostname: node-1}\n")
            try await plane.kubectl("taint", "node", "node-1", "node.kubernetes.io/not-ready:NoSchedule-")
            try await plane.kubectl(
                "patch", "node", "node-1", "--subresource=status", "--type=merge", "-p",
                #"{"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"}],"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"test","lastHeartbeatTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}"#)
            let gateway = "  collector:\n    gateway:\n      replicas: 2\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "obs", namespace: "shop", extra: gateway))
            try await withVigil(kubeconfig: plane.kubeconfig, namespace: "shop") { vigil in
                func conditions() async throws -> [String: Condition] {
                    let s = try await plane.getIfExists(ObservabilityStack.self, "shop", "obs")
                    return Dictionary(uniqueKeysWithValues: (s?.status?.conditions ?? []).map { ($0.type, $0) })
                }
                let refused = try await eventually("both kinds of pods refused", timeout: 90) { () -> [String: Condition]? in
                    let c = try await conditions()
                    let message = c["CollectorAvailable"]?.message ?? ""
                    return c["CollectorAvailable"]?.reason == "PodsRefused" && message.contains("agent pods cannot be created")
                        && message.contains("gateway pods cannot be created") ? c : nil
                }
                let message = refused["CollectorAvailable"]?.message ?? ""
                #expect(refused["CollectorAvailable"]?.status == "False")
                // The API server's own words: the policy's refusal of host paths, the quota.
                #expect(message.contains("agent pods cannot be created: pods \"obs-collector-"), "\(message)")
                #expect(message.contains("hostPath volumes are not allowed"), "\(message)")
                #expect(message.contains("exceeded quota: pods"), "\(message)")
                #expect(refused["Ready"]?.status == "False" && refused["Ready"]?.reason == "PodsRefused")
                #expect(refused["Stalled"]?.status == "True" && refused["Stalled"]?.reason == "PodsRefused")
                let events = try await plane.kubectl("get", "events", "-n", "shop", "--field-selector", "involvedObject.kind=ObservabilityStack", "-o", "jsonpath={.items[*].reason}")
                #expect(events.contains("PodsRefused"), "\(events)")

                // Admissible: a policy that allows the agents' host paths, and room in the quota.
                try await plane.kubectl("apply", "-f", "-", input: Self.policy(name: "collector", hostPaths: true))
                try await plane.kubectl("delete", "resourcequota", "pods", "-n", "shop")
                // The controllers retry a refused pod after a backoff that by now can be
                // minutes long; a change to the workload makes them look at once.
                try await plane.kubectl("annotate", "daemonset", "obs-collector", "-n", "shop", "test.vigil.dev/admissible=1")
                for rs in try await plane.kubectl("get", "replicasets", "-n", "shop", "-o", "name").split(separator: "\n") {
                    try await plane.kubectl("annotate", String(rs), "-n", "shop", "test.vigil.dev/admissible=1")
                }
                let ready = try await eventually("Ready once the pods serve", timeout: 120) { () -> [String: Condition]? in
                    // What a kubelet would report of each admitted pod.
                    for pod in try await plane.kubectl("get", "pods", "-n", "shop", "-o", "name").split(separator: "\n") {
                        try await plane.kubectl(
                            "patch", String(pod), "-n", "shop", "--subresource=status", "--type=merge", "-p",
                            #"{"status":{"phase":"Running","startTime":"2026-01-01T00:00:00Z","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}"#)
                    }
                    let c = try await conditions()
                    return c["Ready"]?.status == "True" && c["CollectorAvailable"]?.status == "True" ? c : nil
                }
                #expect(ready["CollectorAvailable"]?.reason == "AllReady")
                #expect(ready["CollectorAvailable"]?.message == "all 1 collector pods are ready, and the gateway is available")
                #expect(ready["Stalled"]?.status == "False")
                let stack = try #require(try await plane.getIfExists(ObservabilityStack.self, "shop", "obs"))
                #expect(stack.status?.collectors?.ready == 1 && stack.status?.collectors?.desired == 1)
                #expect(!vigil.log.contains("cannot read the collector DaemonSet's events"))
            }
        }
    }

    /// A PodSecurityPolicy (policy/v1beta1, the last version 1.20 serves) that allows
    /// everything the collector asks for, host paths only when `hostPaths`.
    static func policy(name: String, hostPaths: Bool) -> String {
        let volumes = ["configMap", "secret", "emptyDir", "projected", "downwardAPI"] + (hostPaths ? ["hostPath"] : [])
        return """
            apiVersion: policy/v1beta1
            kind: PodSecurityPolicy
            metadata:
              name: \(name)
              annotations: {seccomp.security.alpha.kubernetes.io/allowedProfileNames: "*"}
            spec:
              privileged: false
              allowPrivilegeEscalation: false
              volumes: [\(volumes.joined(separator: ", "))]
              runAsUser: {rule: RunAsAny}
              seLinux: {rule: RunAsAny}
              supplementalGroups: {rule: RunAsAny}
              fsGroup: {rule: RunAsAny}
              readOnlyRootFilesystem: false
            """
    }
}
