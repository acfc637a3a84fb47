import KubeModel

/// The agents' DaemonSet.
extension Workloads {
    static func daemonSet(_ ctx: StackContext, configHash: String) -> JSONValue {
        let name = Naming.collector(ctx.name)
        return [
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(name),
            "spec": [
                "selector": ["matchLabels": .object(CollectorPod.selector(ctx, role: .agent).jsonObject)],
                "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1]],
                "minReadySeconds": 5,
                "template": CollectorPod.template(ctx, role: .agent, configMap: name, configHash: configHash),
            ],
        ]
    }
}
