import KubeModel

/// A stack that sets every field of the spec and status: the CRD drift test walks it.
enum Fixtures {
    static let secretKey = SecretKeyRef(name: "s", key: "k")
    static let creds = CredentialsRef(name: "c", usernameKey: "u", passwordKey: "p")
    static let selector = LabelSelector(matchLabels: ["a": "b"], matchExpressions: [LabelSelectorRequirement(key: "k", operator: "In", values: ["v"])])
    static let peer = PeerSpec(namespaceSelector: selector, podSelector: selector, ipBlock: IPBlock(cidr: "10.0.0.0/8", except: ["10.1.0.0/16"]))

    static let maximal = ObservabilityStack(
        metadata: ObjectMeta(name: "full", namespace: "ns"),
        spec: StackSpec(
            environment: .production,
            collector: CollectorSpec(
                image: "img", mode: "DaemonSet", gateway: GatewaySpec(replicas: 2, minAvailable: 1),
                memoryLimiter: MemoryLimiterSpec(limitMiB: 2048, spikeLimitMiB: 400),
                hostMetrics: HostMetricsSpec(enabled: true, collectionInterval: "30s"),
                fileLogs: FileLogsSpec(enabled: true, include: ["/var/log/pods/*/*/*.log"]),
                resources: ResourceRequirements(limits: ["cpu": "1"], requests: ["memory": "1Gi"]),
                tolerations: [Toleration(key: "k", operator: "Equal", value: "v", effect: "NoSchedule", tolerationSeconds: 10)],
                nodeSelector: ["kubernetes.io/os": "linux"],
                batch: BatchSpec(sendBatchSize: 256, sendBatchMaxSize: 512, timeout: "2s"),
                sendingQueue: SendingQueueSpec(persistent: true, size: 500),
                kubernetesAttributes: KubernetesAttributesSpec(enabled: true)
            ),
            ingest: IngestSpec(
                tls: TLSSpec(
                    mode: "SelfSigned", secretName: "x", clientAuth: "Optional", duration: "90d", renewBefore: "30d", keyAlgorithm: "RSA",
                    keySize: 2048, dnsNames: ["otel.example.com"], ipAddresses: ["10.0.0.1"]
                ),
                basicAuth: {
                    var b = BasicAuthSpec(
                        enabled: true, clients: [ClientRef(name: "api", namespace: "apps")], rotation: RotationSpec(interval: "30d", overlap: "24h", maxOverlap: "7d"),
                        bcryptCost: 10
                    )
                    b.clientSecretLabels = ["reloader.stakater.com/match": "true"]
                    b.clientSecretAnnotations = ["team.example/owner": "payments"]
                    return b
                }()
            ),
            sampling: SamplingSpec(percentage: 10, errors: true, latencyThresholdMs: 2000, decisionWait: "15s", numTraces: 20000),
            exporters: ExportersSpec(
                loki: LokiExporterSpec(endpoint: "https://loki/otlp", credentialsSecret: creds, caSecret: secretKey, insecureSkipVerify: false),
                tempo: TempoExporterSpec(endpoint: "tempo:4317", bearerTokenSecret: secretKey, caSecret: secretKey, insecure: false),
                remoteWrite: RemoteWriteExporterSpec(url: "https://mimir/api/v1/push", credentialsSecret: creds, caSecret: secretKey)
            ),
            networkPolicy: NetworkPolicySpec(enabled: true, ingestFrom: [peer], metricsFrom: [peer], egressTo: ["0.0.0.0/0"], nodeCIDRs: ["10.0.0.0/8"], apiServerCIDRs: ["172.16.0.0/12"]),
            alerting: AlertingSpec(
                thresholds: AlertThresholds(latencyP95Ms: 500, errorRatio: 0.05, cpuUtilization: 0.9, memoryUtilization: 0.9, forDuration: "5m"),
                receivers: AlertReceivers(
                    slack: SlackReceiver(webhookURLSecret: secretKey, channel: "#obs"),
                    pagerDuty: PagerDutyReceiver(routingKeySecret: secretKey),
                    email: EmailReceiver(to: "a@b", from: "c@d", smarthost: "smtp:587", username: "u", passwordSecret: secretKey)
                ),
                alertmanagers: ["alertmanager.monitoring.svc:9093"],
                prometheusRule: MonitoringObjectSpec(labels: ["release": "kube-prometheus-stack"]),
                serviceMonitor: MonitoringObjectSpec(labels: ["release": "kube-prometheus-stack"]),
                alertmanagerConfig: AlertmanagerConfigOutput(enabled: true, labels: ["alertmanagerConfig": "shared"])
            ),
            grafana: GrafanaSpec(datasources: true, dashboards: true, prometheusURL: "http://prometheus:9090", lokiURL: "http://loki:3100", tempoURL: "http://tempo:3200", defaultDatasource: false,
                operator: GrafanaOperatorOutput(enabled: true, instanceLabels: ["dashboards": "grafana"], allowCrossNamespaceImport: true))
        ),
        status: StackStatus(
            observedGeneration: 1,
            conditions: [Condition(type: "Ready", status: "True", reason: "R", message: "m", lastTransitionTime: "2026-01-01T00:00:00Z", observedGeneration: 1)],
            collectors: CollectorsStatus(desired: 3, ready: 2),
            certificate: CertificateStatus(notAfter: "2026-01-01T00:00:00Z", renewalTime: "2026-01-01T00:00:00Z", serial: "0a", caPhase: "NewCAInBundle", restartBy: "2026-01-01T00:00:00Z",
                staleConsumers: ["apps/api-1"]),
            credentials: {
                var c = CredentialsStatus(generation: 1, rotatedAt: "2026-01-01T00:00:00Z", nextRotation: "2026-01-01T00:00:00Z")
                c.phase = "Overlap"
                c.phaseSince = "2026-01-01T00:00:00Z"
                c.previousRemovedAfter = "2026-01-02T00:00:00Z"
                c.previousRemovedBy = "2026-01-08T00:00:00Z"
                c.staleConsumers = ["apps/api-1"]
                return c
            }(),
            endpoints: EndpointsStatus(grpc: "g", http: "h"),
            configHash: "abc"
        )
    )
}
