import KubeModel

/// The k8sattributes processor's API access: in each namespace the stack serves, a
/// RoleBinding of the agents' ServiceAccount to the ClusterRole `vigil-collector`, which
/// allows list and watch of pods and replicasets and nothing else (installed with Vigil;
/// Vigil may bind that ClusterRole, and only it). No binding reaches a namespace that did
/// not accept the stack, and none exists when the processor is off.
public enum CollectorRBAC {
    public static let resource = ResourceDescriptor(group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", plural: "rolebindings")
    /// The ClusterRole the bindings name, shipped in manifests/cluster-rbac.yaml and the chart.
    public static let clusterRole = "vigil-collector"
    /// What that ClusterRole allows, as `kubectl auth can-i` would ask it: k8sattributes'
    /// informers on pods (every field it extracts) and replicasets (`k8s.deployment.name`).
    public static let rules: [(group: String, resource: String, verbs: [String])] = [("", "pods", ["list", "watch"]), ("apps", "replicasets", ["list", "watch"])]

    /// The namespaces whose pods the agents may list: none unless k8sattributes runs.
    public static func namespaces(_ ctx: StackContext) -> [String] {
        CollectorPod.mountsToken(ctx, role: .agent) ? ctx.servedNamespaces : []
    }

    /// A binding's name, the same in every namespace: `<stack namespace>.<stack>-collector`,
    /// unique per stack (a namespace has no dot).
    public static func bindingName(_ ctx: StackContext) -> String { Naming.shorten("\(ctx.namespace).\(ctx.name)-collector") }

    static func drafts(_ ctx: StackContext) -> [Draft] {
        namespaces(ctx).map { ns in
            let body: JSONValue = [
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": ["name": .string(bindingName(ctx))],
                "roleRef": ["apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": .string(clusterRole)],
                "subjects": [["kind": "ServiceAccount", "name": .string(ctx.names.collector), "namespace": .string(ctx.namespace)]],
            ]
            return Draft(resource, component: "collector", body: body, placement: ns == ctx.namespace ? .stackNamespace : .clientNamespace(ns))
        }
    }
}
