import KubeModel

/// apps/v1 and core/v1 kinds Vigil creates, described for generic apply.
public enum Kinds {
    public static let serviceAccount = ResourceDescriptor(group: "", version: "v1", kind: "ServiceAccount", plural: "serviceaccounts")
    public static let service = ResourceDescriptor(group: "", version: "v1", kind: "Service", plural: "services")
    public static let daemonSet = ResourceDescriptor(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets")
    public static let deployment = ResourceDescriptor(group: "apps", version: "v1", kind: "Deployment", plural: "deployments")
    public static let configMap = ConfigMap.resource
    public static let secret = Secret.resource

    /// Every kind a stack may own, in the order they are applied.
    public static let networkPolicy = NetworkPolicyRender.resource
    public static let roleBinding = CollectorRBAC.resource
    public static let owned: [ResourceDescriptor] = [secret, serviceAccount, roleBinding, configMap, service, daemonSet, deployment, networkPolicy]
}

/// Builders of one object each, as JSON for server-side apply. Labels, namespace and owner
/// are stamped by `Stamp`. One file per kind: `Workloads+<Kind>.swift`.
enum Workloads {
    static func meta(_ name: String) -> JSONValue { ["name": .string(name)] }
}
