import KubeModel

/// The collector pods' ServiceAccount.
extension Workloads {
    static func serviceAccount(_ ctx: StackContext) -> JSONValue {
        ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(Naming.collector(ctx.name))]
    }
}
