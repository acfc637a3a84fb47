import KubeModel

/// The collector image Vigil pins. The rendered config uses this version's component names.
public let defaultCollectorImage = "otel/opentelemetry-collector-contrib:0.120.1"

/// `spec.ingest.tls.mode`.
public enum TLSMode: String, Sendable, Hashable, CaseIterable {
    case disabled = "Disabled"
    /// Vigil's own CA per stack.
    case selfSigned = "SelfSigned"
    /// The user's Secret (for example from cert-manager).
    case secret = "Secret"
}

/// `spec.ingest.tls.clientAuth`.
public enum ClientAuth: String, Sendable, Hashable, CaseIterable {
    case none = "None"
    /// Client certificates are issued and delivered, not required.
    case optional = "Optional"
    /// The collector requires a client certificate from the stack's CA.
    case required = "Required"
}

/// `spec.ingest.tls.keyAlgorithm`.
public enum KeyAlgorithmName: String, Sendable, Hashable, CaseIterable {
    case ecdsa = "ECDSA"
    case rsa = "RSA"
}

/// Alert thresholds and durations: an environment's defaults, or a stack's once its spec's
/// thresholds are applied (`AlertSettings(ctx)`).
public struct AlertSettings: Sendable, Hashable {
    public var latencyP95Ms: Int
    public var errorRatio: Double
    public var cpuUtilization: Double
    public var memoryUtilization: Double
    /// `for:` of the SLO and resource alerts, in seconds.
    public var forSeconds: Int
    /// `for:` of OtelCollectorDown and the export-path alerts.
    public var collectorDownForSeconds: Int
}

/// The defaults of one environment, in one table: explicit spec fields always win.
public struct EnvironmentProfile: Sendable, Hashable {
    public var memoryLimitMiB: Int
    public var tlsMode: TLSMode
    public var clientAuth: ClientAuth
    public var basicAuth: Bool
    public var networkPolicy: Bool
    public var samplingPercentage: Double
    public var alerts: AlertSettings
    /// Gateway replicas where Tempo is configured: staging and production sample whole
    /// traces behind a gateway, development samples on each node.
    public var gatewayReplicas: Int
    /// The batch processor's timeout.
    public var batchTimeout: String
    /// Whether the exporters' sending queues are on disk (file_storage).
    public var persistentQueues: Bool
    /// What the exporters' queues may hold at most, in MiB of the largest batches: the
    /// queue size in batches follows (`Batching.queueSize`).
    public var queueBudgetMiB: Int
    /// tail_sampling's `num_traces`: traces held in memory while their decision waits.
    public var numTraces: Int

    public static func of(_ environment: Environment) -> EnvironmentProfile {
        switch environment {
        case .development:
            return EnvironmentProfile(
                memoryLimitMiB: 1024, tlsMode: .disabled, clientAuth: .none, basicAuth: false, networkPolicy: false, samplingPercentage: 100,
                alerts: AlertSettings(latencyP95Ms: 2000, errorRatio: 0.10, cpuUtilization: 0.95, memoryUtilization: 0.95, forSeconds: 900, collectorDownForSeconds: 300),
                gatewayReplicas: 0, batchTimeout: "1s", persistentQueues: false, queueBudgetMiB: 256, numTraces: 10000
            )
        case .staging:
            return EnvironmentProfile(
                memoryLimitMiB: 1024, tlsMode: .selfSigned, clientAuth: .none, basicAuth: true, networkPolicy: true, samplingPercentage: 25,
                alerts: AlertSettings(latencyP95Ms: 1000, errorRatio: 0.05, cpuUtilization: 0.90, memoryUtilization: 0.90, forSeconds: 600, collectorDownForSeconds: 180),
                gatewayReplicas: 2, batchTimeout: "5s", persistentQueues: true, queueBudgetMiB: 1024, numTraces: 50000
            )
        case .production:
            return EnvironmentProfile(
                memoryLimitMiB: 2048, tlsMode: .selfSigned, clientAuth: .optional, basicAuth: true, networkPolicy: true, samplingPercentage: 10,
                alerts: AlertSettings(latencyP95Ms: 500, errorRatio: 0.02, cpuUtilization: 0.85, memoryUtilization: 0.90, forSeconds: 300, collectorDownForSeconds: 120),
                gatewayReplicas: 2, batchTimeout: "5s", persistentQueues: true, queueBudgetMiB: 4096, numTraces: 100000
            )
        }
    }
}

/// A spec with every default filled in from its environment profile, modes typed and
/// durations in seconds. Explicit spec fields always win over the profile. The raw
/// strings stay beside the parsed values, for messages. Built once per reconcile and once
/// per render; `StackValidator.resolve` is the checked way to get one.
public struct ResolvedSpec: Sendable, Hashable {
    public var environment: Environment
    public var profile: EnvironmentProfile
    public var image: String
    /// The agents' PriorityClass, the operator's choice.
    public var agentPriorityClass: String?
    /// The PrometheusRule's and ServiceMonitor's extra labels: the operator's, then the stack's.
    public var prometheusRuleLabels: [String: String]
    public var serviceMonitorLabels: [String: String]
    /// The AlertmanagerConfig's labels, where the spec asks for one.
    public var alertmanagerConfigLabels: [String: String]
    /// The operator's monitoring namespace (`--monitoring-namespace`).
    public var monitoringNamespace: String
    public var gatewayReplicas: Int
    /// The gateway PodDisruptionBudget's minAvailable; 0: no budget.
    public var gatewayMinAvailable: Int
    public var batchSize: Int
    public var batchMaxSize: Int
    public var batchTimeout: String
    public var batchTimeoutSeconds: Double
    public var persistentQueues: Bool
    /// The exporters' queue size, in batches.
    public var queueSize: Int
    public var decisionWait: String
    public var decisionWaitSeconds: Double
    public var numTraces: Int
    public var kubernetesAttributes: Bool
    public var memoryLimitMiB: Int
    public var memorySpikeLimitMiB: Int
    public var hostMetrics: Bool
    public var hostMetricsInterval: String
    public var fileLogs: Bool
    public var fileLogInclude: [String]
    public var tlsMode: TLSMode
    public var clientAuth: ClientAuth
    public var keyAlgorithm: KeyAlgorithmName
    public var keySize: Int?
    /// The leaf lifetime as written, and in seconds.
    public var tlsDuration: String
    public var tlsDurationSeconds: Double
    public var tlsRenewBefore: String?
    public var tlsRenewBeforeSeconds: Double?
    public var basicAuth: Bool
    public var clients: [ClientRef]
    public var rotationInterval: String
    public var rotationIntervalSeconds: Double
    public var rotationOverlap: String
    public var rotationOverlapSeconds: Double
    public var rotationMaxOverlap: String
    public var rotationMaxOverlapSeconds: Double
    public var bcryptCost: Int
    public var samplingPercentage: Double
    public var sampleErrors: Bool
    public var latencyThresholdMs: Int
    public var networkPolicy: Bool
    public var grafanaDatasources: Bool
    public var grafanaDashboards: Bool

    /// `namespace` is the stack's: the default log scope depends on it; `policy` is the
    /// operator's (the default image).
    public init(_ spec: StackSpec, namespace: String = "default", policy: OperatorPolicy = .standard) {
        let env = spec.environment
        let profile = EnvironmentProfile.of(env)
        self.profile = profile
        environment = env
        image = spec.collector?.image ?? policy.defaultImage
        agentPriorityClass = policy.agentPriorityClass
        prometheusRuleLabels = policy.monitoringLabels.merging(spec.alerting?.prometheusRule?.labels ?? [:]) { _, stack in stack }
        serviceMonitorLabels = policy.monitoringLabels.merging(spec.alerting?.serviceMonitor?.labels ?? [:]) { _, stack in stack }
        alertmanagerConfigLabels = policy.monitoringLabels.merging(spec.alerting?.alertmanagerConfig?.labels ?? [:]) { _, stack in stack }
        monitoringNamespace = policy.monitoringNamespace
        gatewayReplicas = spec.collector?.gateway?.replicas ?? profile.gatewayReplicas
        gatewayMinAvailable = spec.collector?.gateway?.minAvailable ?? max(0, gatewayReplicas - 1)
        batchMaxSize = spec.collector?.batch?.sendBatchMaxSize ?? Batching.sendBatchMaxSize
        batchSize = spec.collector?.batch?.sendBatchSize ?? min(Batching.sendBatchSize, batchMaxSize)
        batchTimeout = spec.collector?.batch?.timeout ?? profile.batchTimeout
        batchTimeoutSeconds = (try? DurationParser.seconds(batchTimeout)) ?? 5
        persistentQueues = spec.collector?.sendingQueue?.persistent ?? profile.persistentQueues
        queueSize = spec.collector?.sendingQueue?.size ?? Batching.queueSize(budgetMiB: profile.queueBudgetMiB, maxBatchItems: batchMaxSize)
        decisionWait = spec.sampling?.decisionWait ?? "10s"
        decisionWaitSeconds = (try? DurationParser.seconds(decisionWait)) ?? 10
        numTraces = spec.sampling?.numTraces ?? profile.numTraces
        kubernetesAttributes = spec.collector?.kubernetesAttributes?.enabled ?? true
        memoryLimitMiB = spec.collector?.memoryLimiter?.limitMiB ?? profile.memoryLimitMiB
        memorySpikeLimitMiB = spec.collector?.memoryLimiter?.spikeLimitMiB ?? memoryLimitMiB / 5
        hostMetrics = spec.collector?.hostMetrics?.enabled ?? true
        hostMetricsInterval = spec.collector?.hostMetrics?.collectionInterval ?? "30s"
        fileLogs = spec.collector?.fileLogs?.enabled ?? true
        clients = spec.ingest?.basicAuth?.clients ?? []
        // By default a stack reads the pod logs of its own namespace and its clients' only.
        fileLogInclude = spec.collector?.fileLogs?.include ?? PodLogs.defaultInclude(namespace: namespace, clients: clients)
        let tls = spec.ingest?.tls
        // An unknown mode is a validation error; the profile's stands in until it is fixed.
        tlsMode = tls?.mode.flatMap(TLSMode.init(rawValue:)) ?? profile.tlsMode
        clientAuth = tls?.clientAuth.flatMap(ClientAuth.init(rawValue:)) ?? profile.clientAuth
        keyAlgorithm = tls?.keyAlgorithm.flatMap(KeyAlgorithmName.init(rawValue:)) ?? .ecdsa
        keySize = tls?.keySize
        tlsDuration = tls?.duration ?? "90d"
        tlsDurationSeconds = (try? DurationParser.seconds(tlsDuration)) ?? 90 * 86400
        tlsRenewBefore = tls?.renewBefore
        tlsRenewBeforeSeconds = tlsRenewBefore.flatMap { try? DurationParser.seconds($0) }
        basicAuth = spec.ingest?.basicAuth?.enabled ?? profile.basicAuth
        rotationInterval = spec.ingest?.basicAuth?.rotation?.interval ?? "30d"
        rotationIntervalSeconds = (try? DurationParser.seconds(rotationInterval)) ?? 30 * 86400
        rotationOverlap = spec.ingest?.basicAuth?.rotation?.overlap ?? "24h"
        rotationOverlapSeconds = (try? DurationParser.seconds(rotationOverlap)) ?? 86400
        rotationMaxOverlap = spec.ingest?.basicAuth?.rotation?.maxOverlap ?? "7d"
        rotationMaxOverlapSeconds = max(rotationOverlapSeconds, (try? DurationParser.seconds(rotationMaxOverlap)) ?? 7 * 86400)
        // bcrypt's lowest cost: the passwords are 192 random bits, which no cost makes
        // harder to guess, and the collector verifies the hash on every request it
        // authenticates (about 1 ms at cost 4, 50 ms at 10; `vigil-bench bcrypt`).
        bcryptCost = spec.ingest?.basicAuth?.bcryptCost ?? 4
        samplingPercentage = spec.sampling?.percentage ?? profile.samplingPercentage
        sampleErrors = spec.sampling?.errors ?? true
        latencyThresholdMs = spec.sampling?.latencyThresholdMs ?? 2000
        networkPolicy = spec.networkPolicy?.enabled ?? profile.networkPolicy
        grafanaDatasources = spec.grafana?.datasources ?? true
        grafanaDashboards = spec.grafana?.dashboards ?? true
    }

    public var tlsEnabled: Bool { tlsMode != .disabled }
    /// A duration as the collector (Go) reads it: whole seconds, else milliseconds.
    public static func goDuration(_ seconds: Double) -> String {
        let ms = (seconds * 1000).rounded()
        return ms.truncatingRemainder(dividingBy: 1000) == 0 ? "\(Int(ms / 1000))s" : "\(Int(ms))ms"
    }
    /// Whether Vigil issues the stack's certificates (its own CA).
    public var issuesCertificates: Bool { tlsMode == .selfSigned }
    /// Whether clients get certificates (mTLS, Optional or Required).
    public var issuesClientCertificates: Bool { clientAuth != .none }
}

/// Where pod logs are on a node, and which of them a stack may read.
public enum PodLogs {
    public static let root = "/var/log/pods/"

    /// The namespaces whose pod logs a stack may read: its own and its clients'.
    public static func namespaces(namespace: String, clients: [ClientRef]) -> [String] {
        Array(Set([namespace] + clients.map(\.namespace))).sorted()
    }

    /// `/var/log/pods/<ns>_*/*/*.log` for each namespace the stack may read.
    public static func defaultInclude(namespace: String, clients: [ClientRef]) -> [String] {
        namespaces(namespace: namespace, clients: clients).map { "\(root)\($0)_*/*/*.log" }
    }

    /// Why a user's include glob is refused, or nil: it must stay under `/var/log/pods/`,
    /// never climb with `..`, and name one of `allowed` literally as its pod directory's
    /// namespace (`<ns>_…`), so that no stack reads another namespace's logs.
    public static func problem(with glob: String, allowed: [String]) -> String? {
        guard glob.hasPrefix(root) else { return "must be under \(root), got \"\(glob.prefix(200))\"" }
        if glob.split(separator: "/", omittingEmptySubsequences: false).contains("..") || glob.firstRange(ofASCII: "/..") != nil {
            return "must not contain .., got \"\(glob.prefix(200))\""
        }
        let podDir = glob.dropFirst(root.count).prefix { $0 != "/" }
        guard let underscore = podDir.firstIndex(of: "_"), allowed.contains(String(podDir[..<underscore])) else {
            return "must name the pod directory's namespace (\(root)<namespace>_*/...), one of \(allowed.joined(separator: ", ")): other namespaces' logs are not this stack's, got \"\(glob.prefix(200))\""
        }
        return nil
    }
}
