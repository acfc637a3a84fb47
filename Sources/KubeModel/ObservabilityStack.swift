/// The `observability.vigil.dev/v1alpha1` `ObservabilityStack` resource: one secure
/// OpenTelemetry observability stack for one environment.
public struct ObservabilityStack: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(
        group: "observability.vigil.dev",
        version: "v1alpha1",
        kind: "ObservabilityStack",
        plural: "observabilitystacks"
    )
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: StackSpec
    public var status: StackStatus?

    public init(metadata: ObjectMeta, spec: StackSpec, status: StackStatus? = nil) {
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }
}

/// The environment profile: it supplies every default that the spec does not set.
public enum Environment: String, Codable, Sendable, Hashable, CaseIterable {
    case development
    case staging
    case production
}

/// `spec`. Everything but `environment` is optional.
public struct StackSpec: Codable, Sendable, Hashable {
    public var environment: Environment
    public var collector: CollectorSpec?
    public var ingest: IngestSpec?
    public var sampling: SamplingSpec?
    public var exporters: ExportersSpec?
    public var networkPolicy: NetworkPolicySpec?
    public var alerting: AlertingSpec?
    public var grafana: GrafanaSpec?

    public init(
        environment: Environment,
        collector: CollectorSpec? = nil,
        ingest: IngestSpec? = nil,
        sampling: SamplingSpec? = nil,
        exporters: ExportersSpec? = nil,
        networkPolicy: NetworkPolicySpec? = nil,
        alerting: AlertingSpec? = nil,
        grafana: GrafanaSpec? = nil
    ) {
        self.environment = environment
        self.collector = collector
        self.ingest = ingest
        self.sampling = sampling
        self.exporters = exporters
        self.networkPolicy = networkPolicy
        self.alerting = alerting
        self.grafana = grafana
    }
}

public struct CollectorSpec: Codable, Sendable, Hashable {
    public var image: String?
    public var mode: String?
    public var gateway: GatewaySpec?
    public var memoryLimiter: MemoryLimiterSpec?
    public var hostMetrics: HostMetricsSpec?
    public var fileLogs: FileLogsSpec?
    public var resources: ResourceRequirements?
    public var tolerations: [Toleration]?
    public var nodeSelector: [String: String]?
    public var batch: BatchSpec?
    public var sendingQueue: SendingQueueSpec?
    public var kubernetesAttributes: KubernetesAttributesSpec?

    public init(
        image: String? = nil, mode: String? = nil, gateway: GatewaySpec? = nil, memoryLimiter: MemoryLimiterSpec? = nil,
        hostMetrics: HostMetricsSpec? = nil, fileLogs: FileLogsSpec? = nil, resources: ResourceRequirements? = nil,
        tolerations: [Toleration]? = nil, nodeSelector: [String: String]? = nil, batch: BatchSpec? = nil, sendingQueue: SendingQueueSpec? = nil,
        kubernetesAttributes: KubernetesAttributesSpec? = nil
    ) {
        self.batch = batch
        self.sendingQueue = sendingQueue
        self.kubernetesAttributes = kubernetesAttributes
        self.image = image
        self.mode = mode
        self.gateway = gateway
        self.memoryLimiter = memoryLimiter
        self.hostMetrics = hostMetrics
        self.fileLogs = fileLogs
        self.resources = resources
        self.tolerations = tolerations
        self.nodeSelector = nodeSelector
    }
}

public struct GatewaySpec: Codable, Sendable, Hashable {
    public var replicas: Int?
    public var minAvailable: Int?
    public init(replicas: Int? = nil, minAvailable: Int? = nil) {
        self.replicas = replicas
        self.minAvailable = minAvailable
    }
}

/// `spec.collector.batch`: the batch processor.
public struct BatchSpec: Codable, Sendable, Hashable {
    public var sendBatchSize: Int?
    public var sendBatchMaxSize: Int?
    public var timeout: String?
    public init(sendBatchSize: Int? = nil, sendBatchMaxSize: Int? = nil, timeout: String? = nil) {
        self.sendBatchSize = sendBatchSize
        self.sendBatchMaxSize = sendBatchMaxSize
        self.timeout = timeout
    }
}

/// `spec.collector.sendingQueue`: the exporters' queues.
public struct SendingQueueSpec: Codable, Sendable, Hashable {
    public var persistent: Bool?
    public var size: Int?
    public init(persistent: Bool? = nil, size: Int? = nil) {
        self.persistent = persistent
        self.size = size
    }
}

/// `spec.collector.kubernetesAttributes`: the k8sattributes processor.
public struct KubernetesAttributesSpec: Codable, Sendable, Hashable {
    public var enabled: Bool?
    public init(enabled: Bool? = nil) { self.enabled = enabled }
}

public struct MemoryLimiterSpec: Codable, Sendable, Hashable {
    public var limitMiB: Int?
    public var spikeLimitMiB: Int?
    public init(limitMiB: Int? = nil, spikeLimitMiB: Int? = nil) {
        self.limitMiB = limitMiB
        self.spikeLimitMiB = spikeLimitMiB
    }
}

public struct HostMetricsSpec: Codable, Sendable, Hashable {
    public var enabled: Bool?
    public var collectionInterval: String?
    public init(enabled: Bool? = nil, collectionInterval: String? = nil) {
        self.enabled = enabled
        self.collectionInterval = collectionInterval
    }
}

public struct FileLogsSpec: Codable, Sendable, Hashable {
    public var enabled: Bool?
    public var include: [String]?
    public init(enabled: Bool? = nil, include: [String]? = nil) {
        self.enabled = enabled
        self.include = include
    }
}

/// `v1.ResourceRequirements`.
public struct ResourceRequirements: Codable, Sendable, Hashable {
    public var limits: [String: String]?
    public var requests: [String: String]?
    public init(limits: [String: String]? = nil, requests: [String: String]? = nil) {
        self.limits = limits
        self.requests = requests
    }
}

/// `v1.Toleration`.
public struct Toleration: Codable, Sendable, Hashable {
    public var key: String?
    public var `operator`: String?
    public var value: String?
    public var effect: String?
    public var tolerationSeconds: Int?
    public init(key: String? = nil, operator: String? = nil, value: String? = nil, effect: String? = nil, tolerationSeconds: Int? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }
}

public struct IngestSpec: Codable, Sendable, Hashable {
    public var tls: TLSSpec?
    public var basicAuth: BasicAuthSpec?
    public init(tls: TLSSpec? = nil, basicAuth: BasicAuthSpec? = nil) {
        self.tls = tls
        self.basicAuth = basicAuth
    }
}

public struct TLSSpec: Codable, Sendable, Hashable {
    public var mode: String?
    public var secretName: String?
    public var clientAuth: String?
    public var duration: String?
    public var renewBefore: String?
    public var keyAlgorithm: String?
    public var keySize: Int?
    public var dnsNames: [String]?
    public var ipAddresses: [String]?

    public init(
        mode: String? = nil, secretName: String? = nil, clientAuth: String? = nil, duration: String? = nil,
        renewBefore: String? = nil, keyAlgorithm: String? = nil, keySize: Int? = nil, dnsNames: [String]? = nil,
        ipAddresses: [String]? = nil
    ) {
        self.mode = mode
        self.secretName = secretName
        self.clientAuth = clientAuth
        self.duration = duration
        self.renewBefore = renewBefore
        self.keyAlgorithm = keyAlgorithm
        self.keySize = keySize
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
    }
}

public struct BasicAuthSpec: Codable, Sendable, Hashable {
    public var enabled: Bool?
    public var clients: [ClientRef]?
    public var rotation: RotationSpec?
    public var bcryptCost: Int?
    /// Extra labels and annotations on every client Secret (for a reloader that restarts
    /// the workloads using a Secret when it changes, for example).
    public var clientSecretLabels: [String: String]?
    public var clientSecretAnnotations: [String: String]?
    public init(enabled: Bool? = nil, clients: [ClientRef]? = nil, rotation: RotationSpec? = nil, bcryptCost: Int? = nil) {
        self.enabled = enabled
        self.clients = clients
        self.rotation = rotation
        self.bcryptCost = bcryptCost
    }
}

public struct ClientRef: Codable, Sendable, Hashable {
    public var name: String
    public var namespace: String
    public init(name: String, namespace: String) {
        self.name = name
        self.namespace = namespace
    }
}

public struct RotationSpec: Codable, Sendable, Hashable {
    public var interval: String?
    public var overlap: String?
    /// The longest the previous credential stays while pods that use the client Secret
    /// have not restarted since the new one was published.
    public var maxOverlap: String?
    public init(interval: String? = nil, overlap: String? = nil, maxOverlap: String? = nil) {
        self.interval = interval
        self.overlap = overlap
        self.maxOverlap = maxOverlap
    }
}

public struct SamplingSpec: Codable, Sendable, Hashable {
    public var percentage: Double?
    public var errors: Bool?
    public var latencyThresholdMs: Int?
    public var decisionWait: String?
    public var numTraces: Int?
    public init(percentage: Double? = nil, errors: Bool? = nil, latencyThresholdMs: Int? = nil, decisionWait: String? = nil, numTraces: Int? = nil) {
        self.decisionWait = decisionWait
        self.numTraces = numTraces
        self.percentage = percentage
        self.errors = errors
        self.latencyThresholdMs = latencyThresholdMs
    }
}

/// A key in a Secret of the stack's namespace.
public struct SecretKeyRef: Codable, Sendable, Hashable {
    public var name: String
    public var key: String
    public init(name: String, key: String) {
        self.name = name
        self.key = key
    }
}

/// A Secret holding a username and a password.
public struct CredentialsRef: Codable, Sendable, Hashable {
    public var name: String
    public var usernameKey: String?
    public var passwordKey: String?
    public init(name: String, usernameKey: String? = nil, passwordKey: String? = nil) {
        self.name = name
        self.usernameKey = usernameKey
        self.passwordKey = passwordKey
    }
}

public struct ExportersSpec: Codable, Sendable, Hashable {
    public var loki: LokiExporterSpec?
    public var tempo: TempoExporterSpec?
    public var remoteWrite: RemoteWriteExporterSpec?
    public init(loki: LokiExporterSpec? = nil, tempo: TempoExporterSpec? = nil, remoteWrite: RemoteWriteExporterSpec? = nil) {
        self.loki = loki
        self.tempo = tempo
        self.remoteWrite = remoteWrite
    }
}

public struct LokiExporterSpec: Codable, Sendable, Hashable {
    public var endpoint: String
    public var credentialsSecret: CredentialsRef?
    public var caSecret: SecretKeyRef?
    public var insecureSkipVerify: Bool?
    public init(endpoint: String, credentialsSecret: CredentialsRef? = nil, caSecret: SecretKeyRef? = nil, insecureSkipVerify: Bool? = nil) {
        self.endpoint = endpoint
        self.credentialsSecret = credentialsSecret
        self.caSecret = caSecret
        self.insecureSkipVerify = insecureSkipVerify
    }
}

public struct TempoExporterSpec: Codable, Sendable, Hashable {
    public var endpoint: String
    public var bearerTokenSecret: SecretKeyRef?
    public var caSecret: SecretKeyRef?
    public var insecure: Bool?
    public init(endpoint: String, bearerTokenSecret: SecretKeyRef? = nil, caSecret: SecretKeyRef? = nil, insecure: Bool? = nil) {
        self.endpoint = endpoint
        self.bearerTokenSecret = bearerTokenSecret
        self.caSecret = caSecret
        self.insecure = insecure
    }
}

public struct RemoteWriteExporterSpec: Codable, Sendable, Hashable {
    public var url: String
    public var credentialsSecret: CredentialsRef?
    public var caSecret: SecretKeyRef?
    public init(url: String, credentialsSecret: CredentialsRef? = nil, caSecret: SecretKeyRef? = nil) {
        self.url = url
        self.credentialsSecret = credentialsSecret
        self.caSecret = caSecret
    }
}

/// `metav1.LabelSelector`.
public struct LabelSelector: Codable, Sendable, Hashable {
    public var matchLabels: [String: String]?
    public var matchExpressions: [LabelSelectorRequirement]?
    public init(matchLabels: [String: String]? = nil, matchExpressions: [LabelSelectorRequirement]? = nil) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }
}

public struct LabelSelectorRequirement: Codable, Sendable, Hashable {
    public var key: String
    public var `operator`: String
    public var values: [String]?
    public init(key: String, operator: String, values: [String]? = nil) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }
}

/// `networking.k8s.io/v1` IPBlock.
public struct IPBlock: Codable, Sendable, Hashable {
    public var cidr: String
    public var except: [String]?
    public init(cidr: String, except: [String]? = nil) {
        self.cidr = cidr
        self.except = except
    }
}

/// One allowed peer: the same shape as a NetworkPolicyPeer.
public struct PeerSpec: Codable, Sendable, Hashable {
    public var namespaceSelector: LabelSelector?
    public var podSelector: LabelSelector?
    public var ipBlock: IPBlock?
    public init(namespaceSelector: LabelSelector? = nil, podSelector: LabelSelector? = nil, ipBlock: IPBlock? = nil) {
        self.namespaceSelector = namespaceSelector
        self.podSelector = podSelector
        self.ipBlock = ipBlock
    }
}

public struct NetworkPolicySpec: Codable, Sendable, Hashable {
    public var enabled: Bool?
    public var ingestFrom: [PeerSpec]?
    public var metricsFrom: [PeerSpec]?
    public var egressTo: [String]?
    public var nodeCIDRs: [String]?
    public var apiServerCIDRs: [String]?
    public init(
        enabled: Bool? = nil, ingestFrom: [PeerSpec]? = nil, metricsFrom: [PeerSpec]? = nil, egressTo: [String]? = nil, nodeCIDRs: [String]? = nil,
        apiServerCIDRs: [String]? = nil
    ) {
        self.apiServerCIDRs = apiServerCIDRs
        self.enabled = enabled
        self.ingestFrom = ingestFrom
        self.metricsFrom = metricsFrom
        self.egressTo = egressTo
        self.nodeCIDRs = nodeCIDRs
    }
}

public struct AlertingSpec: Codable, Sendable, Hashable {
    public var thresholds: AlertThresholds?
    public var receivers: AlertReceivers?
    /// Alertmanager addresses (host:port) that the rendered prometheus.yml alerts.
    public var alertmanagers: [String]?
    /// Extra labels on the PrometheusRule, for a Prometheus' `ruleSelector`.
    public var prometheusRule: MonitoringObjectSpec?
    /// Extra labels on the ServiceMonitor, for a Prometheus' `serviceMonitorSelector`.
    public var serviceMonitor: MonitoringObjectSpec?
    /// The routes and receivers as the Prometheus Operator's `AlertmanagerConfig`, for a
    /// shared Alertmanager, instead of a whole `alertmanager.yaml`.
    public var alertmanagerConfig: AlertmanagerConfigOutput?
    public init(
        thresholds: AlertThresholds? = nil, receivers: AlertReceivers? = nil, alertmanagers: [String]? = nil, prometheusRule: MonitoringObjectSpec? = nil,
        serviceMonitor: MonitoringObjectSpec? = nil, alertmanagerConfig: AlertmanagerConfigOutput? = nil
    ) {
        self.thresholds = thresholds
        self.receivers = receivers
        self.alertmanagers = alertmanagers
        self.prometheusRule = prometheusRule
        self.serviceMonitor = serviceMonitor
        self.alertmanagerConfig = alertmanagerConfig
    }
}

/// `spec.alerting.alertmanagerConfig`: whether to write an `AlertmanagerConfig` (where the
/// cluster serves it), and its labels for an Alertmanager's `alertmanagerConfigSelector`.
public struct AlertmanagerConfigOutput: Codable, Sendable, Hashable {
    public var enabled: Bool?
    public var labels: [String: String]?
    public init(enabled: Bool? = nil, labels: [String: String]? = nil) {
        self.enabled = enabled
        self.labels = labels
    }
}

/// Metadata for one of the Prometheus Operator's objects.
public struct MonitoringObjectSpec: Codable, Sendable, Hashable {
    public var labels: [String: String]?
    public init(labels: [String: String]? = nil) { self.labels = labels }
}

public struct AlertThresholds: Codable, Sendable, Hashable {
    public var latencyP95Ms: Int?
    public var errorRatio: Double?
    public var cpuUtilization: Double?
    public var memoryUtilization: Double?
    public var forDuration: String?
    public init(latencyP95Ms: Int? = nil, errorRatio: Double? = nil, cpuUtilization: Double? = nil, memoryUtilization: Double? = nil, forDuration: String? = nil) {
        self.latencyP95Ms = latencyP95Ms
        self.errorRatio = errorRatio
        self.cpuUtilization = cpuUtilization
        self.memoryUtilization = memoryUtilization
        self.forDuration = forDuration
    }
}

public struct AlertReceivers: Codable, Sendable, Hashable {
    public var slack: SlackReceiver?
    public var pagerDuty: PagerDutyReceiver?
    public var email: EmailReceiver?
    public init(slack: SlackReceiver? = nil, pagerDuty: PagerDutyReceiver? = nil, email: EmailReceiver? = nil) {
        self.slack = slack
        self.pagerDuty = pagerDuty
        self.email = email
    }
}

public struct SlackReceiver: Codable, Sendable, Hashable {
    public var webhookURLSecret: SecretKeyRef
    public var channel: String?
    public init(webhookURLSecret: SecretKeyRef, channel: String? = nil) {
        self.webhookURLSecret = webhookURLSecret
        self.channel = channel
    }
}

public struct PagerDutyReceiver: Codable, Sendable, Hashable {
    public var routingKeySecret: SecretKeyRef
    public init(routingKeySecret: SecretKeyRef) { self.routingKeySecret = routingKeySecret }
}

public struct EmailReceiver: Codable, Sendable, Hashable {
    public var to: String
    public var from: String
    public var smarthost: String
    public var username: String?
    public var passwordSecret: SecretKeyRef?
    public init(to: String, from: String, smarthost: String, username: String? = nil, passwordSecret: SecretKeyRef? = nil) {
        self.to = to
        self.from = from
        self.smarthost = smarthost
        self.username = username
        self.passwordSecret = passwordSecret
    }
}

public struct GrafanaSpec: Codable, Sendable, Hashable {
    public var datasources: Bool?
    public var dashboards: Bool?
    /// Query URLs of the backends, for the datasources (defaults derived from the exporters).
    public var prometheusURL: String?
    public var lokiURL: String?
    public var tempoURL: String?
    /// Make this stack's Prometheus datasource Grafana's default (off: Grafana refuses to
    /// start with two, and kube-prometheus-stack provisions one).
    public var defaultDatasource: Bool?
    /// The Grafana Operator's GrafanaDatasource and GrafanaDashboard instead of the
    /// sidecar's ConfigMaps, where the cluster serves them.
    public var `operator`: GrafanaOperatorOutput?
    public init(
        datasources: Bool? = nil, dashboards: Bool? = nil, prometheusURL: String? = nil, lokiURL: String? = nil, tempoURL: String? = nil,
        defaultDatasource: Bool? = nil, `operator`: GrafanaOperatorOutput? = nil
    ) {
        self.datasources = datasources
        self.dashboards = dashboards
        self.prometheusURL = prometheusURL
        self.lokiURL = lokiURL
        self.tempoURL = tempoURL
        self.defaultDatasource = defaultDatasource
        self.`operator` = `operator`
    }
}

/// `spec.grafana.operator`: write grafana.integreatly.org/v1beta1 objects for the Grafana
/// Operator (where served), selecting its Grafana instances by label.
public struct GrafanaOperatorOutput: Codable, Sendable, Hashable {
    public var enabled: Bool?
    /// The Grafana instances' labels (`spec.instanceSelector.matchLabels`).
    public var instanceLabels: [String: String]?
    /// Whether a Grafana in another namespace may import them.
    public var allowCrossNamespaceImport: Bool?
    public init(enabled: Bool? = nil, instanceLabels: [String: String]? = nil, allowCrossNamespaceImport: Bool? = nil) {
        self.enabled = enabled
        self.instanceLabels = instanceLabels
        self.allowCrossNamespaceImport = allowCrossNamespaceImport
    }
}

/// `status`. It never holds a secret.
public struct StackStatus: Codable, Sendable, Hashable {
    public var observedGeneration: Int?
    public var conditions: [Condition]?
    public var collectors: CollectorsStatus?
    public var certificate: CertificateStatus?
    public var credentials: CredentialsStatus?
    public var endpoints: EndpointsStatus?
    public var configHash: String?

    public init(
        observedGeneration: Int? = nil, conditions: [Condition]? = nil, collectors: CollectorsStatus? = nil,
        certificate: CertificateStatus? = nil, credentials: CredentialsStatus? = nil, endpoints: EndpointsStatus? = nil,
        configHash: String? = nil
    ) {
        self.observedGeneration = observedGeneration
        self.conditions = conditions
        self.collectors = collectors
        self.certificate = certificate
        self.credentials = credentials
        self.endpoints = endpoints
        self.configHash = configHash
    }

    public func condition(_ type: String) -> Condition? {
        conditions?.first { $0.type == type }
    }
}

public struct CollectorsStatus: Codable, Sendable, Hashable {
    public var desired: Int?
    public var ready: Int?
    /// `ready/desired`, for the printer column.
    public var summary: String?
    public init(desired: Int? = nil, ready: Int? = nil) {
        self.desired = desired
        self.ready = ready
        self.summary = "\(ready ?? 0)/\(desired ?? 0)"
    }
}

public struct CertificateStatus: Codable, Sendable, Hashable {
    public var notAfter: String?
    public var renewalTime: String?
    /// Hex serial of the serving leaf.
    public var serial: String?
    /// The CA rollover phase: Stable, NewCAInBundle or LeafOnNewCA.
    public var caPhase: String?
    /// When the pods in `staleConsumers` must have restarted by: the end of the rollover
    /// phase at the latest, or the expiry of the client certificate they hold.
    public var restartBy: String?
    /// Pods (`namespace/name`) that started before their client Secret carried the current
    /// trust bundle (during a rollover) or client certificate (mTLS).
    public var staleConsumers: [String]?
    public init(
        notAfter: String? = nil, renewalTime: String? = nil, serial: String? = nil, caPhase: String? = nil, restartBy: String? = nil,
        staleConsumers: [String]? = nil
    ) {
        self.notAfter = notAfter
        self.renewalTime = renewalTime
        self.serial = serial
        self.caPhase = caPhase
        self.restartBy = restartBy
        self.staleConsumers = staleConsumers
    }
}

public struct CredentialsStatus: Codable, Sendable, Hashable {
    public var generation: Int?
    public var rotatedAt: String?
    public var nextRotation: String?
    /// Stable, RollingOut (a new generation joins the file and the collector rolls) or
    /// Overlap (clients hold the new generation; the previous one is still accepted).
    public var phase: String?
    public var phaseSince: String?
    /// In Overlap: when the previous generation leaves the htpasswd file.
    public var previousRemovedAfter: String?
    /// In Overlap: pods (`namespace/name`) that use a client Secret and started before the
    /// current generation was published: they still send the previous credential.
    public var staleConsumers: [String]?
    /// In Overlap: when the previous generation leaves at the latest (`rotation.maxOverlap`),
    /// restarted or not.
    public var previousRemovedBy: String?
    public init(generation: Int? = nil, rotatedAt: String? = nil, nextRotation: String? = nil) {
        self.generation = generation
        self.rotatedAt = rotatedAt
        self.nextRotation = nextRotation
    }
}

public struct EndpointsStatus: Codable, Sendable, Hashable {
    public var grpc: String?
    public var http: String?
    public init(grpc: String? = nil, http: String? = nil) {
        self.grpc = grpc
        self.http = http
    }
}
