import KubeModel

/// The gateway's PodDisruptionBudget: a node drain evicts gateway pods one at a time (by
/// default `replicas - 1` stay available), so tail sampling never loses every replica at
/// once. `policy/v1` where served, `policy/v1beta1` on clusters before 1.21.
public enum GatewayDisruptionBudget {
    /// How discovery records that a version of PodDisruptionBudget is served.
    public static func discoveryKey(version: String) -> String { "poddisruptionbudgets@policy/\(version)" }

    /// The version to write, from what discovery found; nil when none is served.
    public static func resource(kinds: Set<String>) -> ResourceDescriptor? {
        for version in ["v1", "v1beta1"] where kinds.contains(discoveryKey(version: version)) {
            return ResourceDescriptor(group: "policy", version: version, kind: "PodDisruptionBudget", plural: "poddisruptionbudgets")
        }
        return nil
    }

    /// Whether the stack wants a budget: a gateway, and minAvailable above 0.
    public static func wanted(_ ctx: StackContext) -> Bool { ctx.hasGateway && ctx.spec.gatewayMinAvailable > 0 }

    public static func name(_ ctx: StackContext) -> String { ctx.names.gateway }

    public static func body(_ ctx: StackContext, resource: ResourceDescriptor) -> JSONValue {
        [
            "apiVersion": .string(resource.apiVersion), "kind": "PodDisruptionBudget",
            "metadata": ["name": .string(name(ctx))],
            "spec": [
                "minAvailable": .int(ctx.spec.gatewayMinAvailable),
                "selector": ["matchLabels": .object(CollectorPod.selector(ctx, role: .gateway).jsonObject)],
            ],
        ]
    }
}
