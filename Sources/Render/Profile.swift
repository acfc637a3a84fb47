import KubeModel

/// The collector image Vigil pins. The rendered config uses this version's component names.
public let defaultCollectorImage = "otel/opentelemetry-collector-contrib:0.120.1"

/// A spec with every default filled in from its environment profile. Explicit spec fields
/// always win over the profile.
public struct EffectiveSpec: Sendable, Hashable {
    public var environment: Environment
    public var image: String
    public var gatewayReplicas: Int
    public var memoryLimitMiB: Int
    public var memorySpikeLimitMiB: Int
    public var hostMetrics: Bool
    public var hostMetricsInterval: String
    public var fileLogs: Bool
    public var fileLogInclude: [String]
    public var tlsMode: String
    public var clientAuth: String
    public var tlsDuration: String
    public var tlsRenewBefore: String?
    public var basicAuth: Bool
    public var clients: [ClientRef]
    public var rotationInterval: String
    public var rotationOverlap: String
    public var bcryptCost: Int
    public var samplingPercentage: Double
    public var sampleErrors: Bool
    public var latencyThresholdMs: Int
    public var networkPolicy: Bool
    public var grafanaDatasources: Bool
    public var grafanaDashboards: Bool

    public init(_ spec: StackSpec) {
        let env = spec.environment
        let isDev = env == .development
        environment = env
        image = spec.collector?.image ?? defaultCollectorImage
        gatewayReplicas = spec.collector?.gateway?.replicas ?? 0
        memoryLimitMiB = spec.collector?.memoryLimiter?.limitMiB ?? (env == .production ? 2048 : 1024)
        memorySpikeLimitMiB = spec.collector?.memoryLimiter?.spikeLimitMiB ?? memoryLimitMiB / 5
        hostMetrics = spec.collector?.hostMetrics?.enabled ?? true
        hostMetricsInterval = spec.collector?.hostMetrics?.collectionInterval ?? "30s"
        fileLogs = spec.collector?.fileLogs?.enabled ?? true
        fileLogInclude = spec.collector?.fileLogs?.include ?? ["/var/log/pods/*/*/*.log"]
        tlsMode = spec.ingest?.tls?.mode ?? (isDev ? "Disabled" : "SelfSigned")
        clientAuth = spec.ingest?.tls?.clientAuth ?? (env == .production ? "Optional" : "None")
        tlsDuration = spec.ingest?.tls?.duration ?? "90d"
        tlsRenewBefore = spec.ingest?.tls?.renewBefore
        basicAuth = spec.ingest?.basicAuth?.enabled ?? !isDev
        clients = spec.ingest?.basicAuth?.clients ?? []
        rotationInterval = spec.ingest?.basicAuth?.rotation?.interval ?? "30d"
        rotationOverlap = spec.ingest?.basicAuth?.rotation?.overlap ?? "24h"
        bcryptCost = spec.ingest?.basicAuth?.bcryptCost ?? 10
        samplingPercentage = spec.sampling?.percentage ?? [Environment.development: 100, .staging: 25, .production: 10][env]!
        sampleErrors = spec.sampling?.errors ?? true
        latencyThresholdMs = spec.sampling?.latencyThresholdMs ?? 2000
        networkPolicy = spec.networkPolicy?.enabled ?? !isDev
        grafanaDatasources = spec.grafana?.datasources ?? true
        grafanaDashboards = spec.grafana?.dashboards ?? true
    }

    public var tlsEnabled: Bool { tlsMode != "Disabled" }
}
