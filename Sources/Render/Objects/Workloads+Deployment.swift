import KubeModel

/// The gateway's Deployment.
extension Workloads {
    static func deployment(_ ctx: StackContext, replicas: Int, configHash: String) -> JSONValue {
        let name = Naming.gateway(ctx.name)
        return [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name),
            "spec": [
                "replicas": .int(replicas),
                "selector": ["matchLabels": .object(CollectorPod.selector(ctx, role: .gateway).jsonObject)],
                "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": 1]],
                "template": CollectorPod.template(ctx, role: .gateway, configMap: name, configHash: configHash),
            ],
        ]
    }
}
