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
    public static let owned: [ResourceDescriptor] = [secret, serviceAccount, configMap, service, daemonSet, deployment, networkPolicy]
}

/// Builders of one object each, as JSON for server-side apply. Labels, namespace and owner
/// are stamped by `stampObject`.
enum Workloads {
    static func meta(_ name: String) -> JSONValue { ["name": .string(name)] }

    static func serviceAccount(_ ctx: StackContext) -> JSONValue {
        ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(Naming.collector(ctx.name))]
    }

    static func configMap(name: String, config: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name), "data": ["config.yaml": .string(config)]]
    }

    static func servicePort(_ name: String, _ port: Int, appProtocol: String? = nil) -> JSONValue {
        var p: [String: JSONValue] = ["name": .string(name), "port": .int(port), "targetPort": .int(port), "protocol": "TCP"]
        if let appProtocol { p["appProtocol"] = .string(appProtocol) }
        return .object(p)
    }

    /// The agents' Service: OTLP gRPC and HTTP, metrics and health.
    static func service(_ ctx: StackContext) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": meta(Naming.collector(ctx.name)),
            "spec": [
                "type": "ClusterIP",
                "selector": .object(CollectorPod.selector(ctx, role: .agent).mapValues(JSONValue.string)),
                "ports": [
                    servicePort("otlp-grpc", CollectorPorts.otlpGRPC, appProtocol: "grpc"),
                    servicePort("otlp-http", CollectorPorts.otlpHTTP, appProtocol: "http"),
                    servicePort("metrics", CollectorPorts.metrics, appProtocol: "http"),
                    servicePort("telemetry", CollectorPorts.telemetry, appProtocol: "http"),
                    servicePort("health", CollectorPorts.health, appProtocol: "http"),
                ],
            ],
        ]
    }


    /// The agents' headless Service, for Prometheus: one DNS record per pod, ready or not,
    /// so that each is scraped on its own and a pod that fails shows as `up == 0`.
    static func collectorHeadless(_ ctx: StackContext) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(Naming.collectorHeadless(ctx.name)), "labels": [Annotations.scrapeLabel: "true"]],
            "spec": [
                "clusterIP": "None",
                "publishNotReadyAddresses": true,
                "selector": .object(CollectorPod.selector(ctx, role: .agent).mapValues(JSONValue.string)),
                "ports": [
                    servicePort("metrics", CollectorPorts.metrics, appProtocol: "http"),
                    servicePort("telemetry", CollectorPorts.telemetry, appProtocol: "http"),
                ],
            ],
        ]
    }

    /// The gateway's headless Service: the agents' load-balancing exporter resolves every
    /// ready gateway pod through it; Prometheus scrapes their telemetry through it.
    static func gatewayHeadless(_ ctx: StackContext) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(Naming.gatewayHeadless(ctx.name)), "labels": [Annotations.scrapeLabel: "true"]],
            "spec": [
                "clusterIP": "None",
                "selector": .object(CollectorPod.selector(ctx, role: .gateway).mapValues(JSONValue.string)),
                "ports": [
                    servicePort("otlp-grpc", CollectorPorts.otlpGRPC, appProtocol: "grpc"),
                    servicePort("telemetry", CollectorPorts.telemetry, appProtocol: "http"),
                ],
            ],
        ]
    }

    static func daemonSet(_ ctx: StackContext, configHash: String) -> JSONValue {
        let name = Naming.collector(ctx.name)
        return [
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(name),
            "spec": [
                "selector": ["matchLabels": .object(CollectorPod.selector(ctx, role: .agent).mapValues(JSONValue.string))],
                "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1]],
                "minReadySeconds": 5,
                "template": CollectorPod.template(ctx, role: .agent, configMap: name, configHash: configHash),
            ],
        ]
    }

    static func deployment(_ ctx: StackContext, replicas: Int, configHash: String) -> JSONValue {
        let name = Naming.gateway(ctx.name)
        return [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name),
            "spec": [
                "replicas": .int(replicas),
                "selector": ["matchLabels": .object(CollectorPod.selector(ctx, role: .gateway).mapValues(JSONValue.string))],
                "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": 1]],
                "template": CollectorPod.template(ctx, role: .gateway, configMap: name, configHash: configHash),
            ],
        ]
    }
}
