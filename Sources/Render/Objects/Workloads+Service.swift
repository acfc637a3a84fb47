import KubeModel

/// The collector Services: the agents' (OTLP, metrics, health) and the headless ones Prometheus and the agents' load balancer resolve.
extension Workloads {
    static func servicePort(_ name: String, _ port: Int, appProtocol: String? = nil) -> JSONValue {
        var p: JSONObject = ["name": .string(name), "port": .int(port), "targetPort": .int(port), "protocol": "TCP"]
        if let appProtocol { p["appProtocol"] = .string(appProtocol) }
        return .object(p)
    }

    /// The agents' Service: OTLP gRPC and HTTP, metrics and health.
    static func service(_ ctx: StackContext) -> JSONValue {
        [
            "apiVersion": "v1", "kind": "Service", "metadata": meta(Naming.collector(ctx.name)),
            "spec": [
                "type": "ClusterIP",
                "selector": .object(CollectorPod.selector(ctx, role: .agent).jsonObject),
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
                "selector": .object(CollectorPod.selector(ctx, role: .agent).jsonObject),
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
                "selector": .object(CollectorPod.selector(ctx, role: .gateway).jsonObject),
                "ports": [
                    servicePort("otlp-grpc", CollectorPorts.otlpGRPC, appProtocol: "grpc"),
                    servicePort("telemetry", CollectorPorts.telemetry, appProtocol: "http"),
                ],
            ],
        ]
    }
}
