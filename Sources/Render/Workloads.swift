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

    static func serviceAccount(_ stack: ObservabilityStack) -> JSONValue {
        ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(Naming.collector(stack.metadata.name ?? ""))]
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
    static func service(_ stack: ObservabilityStack) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": meta(Naming.collector(stack.metadata.name ?? "")),
            "spec": [
                "type": "ClusterIP",
                "selector": .object(CollectorPod.selector(stack, role: .agent).mapValues(JSONValue.string)),
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

    /// Marks the headless Services that Prometheus scrapes through (DNS service discovery,
    /// or the ServiceMonitor's selector).
    public static let scrapeLabel = "observability.vigil.dev/scrape"

    /// The agents' headless Service, for Prometheus: one DNS record per pod, ready or not,
    /// so that each is scraped on its own and a pod that fails shows as `up == 0`.
    static func collectorHeadless(_ stack: ObservabilityStack) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(Naming.collectorHeadless(stack.metadata.name ?? "")), "labels": [scrapeLabel: "true"]],
            "spec": [
                "clusterIP": "None",
                "publishNotReadyAddresses": true,
                "selector": .object(CollectorPod.selector(stack, role: .agent).mapValues(JSONValue.string)),
                "ports": [
                    servicePort("metrics", CollectorPorts.metrics, appProtocol: "http"),
                    servicePort("telemetry", CollectorPorts.telemetry, appProtocol: "http"),
                ],
            ],
        ]
    }

    /// The gateway's headless Service: the agents' load-balancing exporter resolves every
    /// ready gateway pod through it; Prometheus scrapes their telemetry through it.
    static func gatewayHeadless(_ stack: ObservabilityStack) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(Naming.gatewayHeadless(stack.metadata.name ?? "")), "labels": [scrapeLabel: "true"]],
            "spec": [
                "clusterIP": "None",
                "selector": .object(CollectorPod.selector(stack, role: .gateway).mapValues(JSONValue.string)),
                "ports": [
                    servicePort("otlp-grpc", CollectorPorts.otlpGRPC, appProtocol: "grpc"),
                    servicePort("telemetry", CollectorPorts.telemetry, appProtocol: "http"),
                ],
            ],
        ]
    }

    static func daemonSet(_ stack: ObservabilityStack, configHash: String) -> JSONValue {
        let name = Naming.collector(stack.metadata.name ?? "")
        return [
            "apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": meta(name),
            "spec": [
                "selector": ["matchLabels": .object(CollectorPod.selector(stack, role: .agent).mapValues(JSONValue.string))],
                "updateStrategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 1]],
                "minReadySeconds": 5,
                "template": CollectorPod.template(stack, role: .agent, configMap: name, configHash: configHash),
            ],
        ]
    }

    static func deployment(_ stack: ObservabilityStack, replicas: Int, configHash: String) -> JSONValue {
        let name = Naming.gateway(stack.metadata.name ?? "")
        return [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(name),
            "spec": [
                "replicas": .int(replicas),
                "selector": ["matchLabels": .object(CollectorPod.selector(stack, role: .gateway).mapValues(JSONValue.string))],
                "strategy": ["type": "RollingUpdate", "rollingUpdate": ["maxUnavailable": 0, "maxSurge": 1]],
                "template": CollectorPod.template(stack, role: .gateway, configMap: name, configHash: configHash),
            ],
        ]
    }
}
