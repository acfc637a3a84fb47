import KubeModel

/// Where the collector pod finds what Vigil mounts. Secrets are mounted as directories
/// (never subPath) so that kubelet updates the files in place.
public enum CollectorPaths {
    public static let configDir = "/etc/otelcol"
    public static let configFile = "/etc/otelcol/config.yaml"
    public static let tlsDir = "/etc/vigil/tls"
    public static let htpasswdDir = "/etc/vigil/htpasswd"
    public static let htpasswdFile = "/etc/vigil/htpasswd/htpasswd"
    public static let lokiCADir = "/etc/vigil/ca/loki"
    public static let tempoCADir = "/etc/vigil/ca/tempo"
    public static let remoteWriteCADir = "/etc/vigil/ca/remote-write"
    /// The gateway's serving certificate and the bundle of the stack's CA(s).
    public static let gatewayTLSDir = "/etc/vigil/gateway-tls"
    /// The agents' client certificate for the gateway and the same bundle.
    public static let agentTLSDir = "/etc/vigil/agent-tls"
    public static let hostRoot = "/hostfs"
    public static let podLogs = "/var/log/pods"
    /// The collector's own writable directory: file_storage (filelog checkpoints, persistent
    /// sending queues). For agents, a directory of the node per stack; for the gateway, an emptyDir.
    public static let storage = "/var/lib/otelcol/storage"
    /// Where on the node an agent keeps its storage: one directory per stack, which no other
    /// stack's pods mount.
    public static func hostStorage(namespace: String, stack: String) -> String { "/var/lib/vigil/\(namespace)/\(stack)" }
}

/// Ports of the collector, as the Service and NetworkPolicy expose them.
public enum CollectorPorts {
    public static let otlpGRPC = 4317
    public static let otlpHTTP = 4318
    public static let metrics = 8889
    /// The collector's own metrics (otelcol_*), for the export-path alerts.
    public static let telemetry = 8888
    public static let health = 13133
}

/// An environment variable filled from a Secret key.
public struct SecretEnv: Sendable, Hashable {
    public var name: String
    public var secret: String
    public var key: String
}

/// A Secret mounted as a directory.
public struct SecretMount: Sendable, Hashable {
    public var volume: String
    public var secret: String
    public var path: String
    /// Key to file name; nil mounts every key under its own name.
    public var items: [String: String]?
}

/// Everything a collector pod needs besides its config: Secret-backed environment and
/// Secret mounts. The config refers to exactly these, and the semantic check proves it.
public struct CollectorInputs: Sendable, Hashable {
    public var env: [SecretEnv] = []
    public var mounts: [SecretMount] = []

    public init(_ ctx: StackContext, role: CollectorRole) {
        let eff = ctx.spec
        let name = ctx.name
        let ex = ctx.raw.exporters
        let exportsTraces = role == .gateway || !ctx.hasGateway
        if role == .agent {
            if eff.tlsEnabled {
                let secret = eff.tlsMode == .secret ? (ctx.raw.ingest?.tls?.secretName ?? "") : Naming.ingestTLS(name)
                mounts.append(SecretMount(volume: "ingest-tls", secret: secret, path: CollectorPaths.tlsDir, items: nil))
            }
            if ctx.hasGateway {
                mounts.append(SecretMount(volume: "agent-tls", secret: ctx.names.agentTLS, path: CollectorPaths.agentTLSDir, items: nil))
            }
            if eff.basicAuth {
                mounts.append(SecretMount(volume: "htpasswd", secret: Naming.htpasswd(name), path: CollectorPaths.htpasswdDir, items: nil))
            }
            if let loki = ex?.loki {
                addBackend(prefix: "LOKI", credentials: loki.credentialsSecret, ca: loki.caSecret, volume: "loki-ca", path: CollectorPaths.lokiCADir)
            }
            if let rw = ex?.remoteWrite {
                addBackend(
                    prefix: "PROM_REMOTE_WRITE", credentials: rw.credentialsSecret, ca: rw.caSecret, volume: "remote-write-ca",
                    path: CollectorPaths.remoteWriteCADir
                )
            }
        }
        if role == .gateway {
            mounts.append(SecretMount(volume: "gateway-tls", secret: ctx.names.gatewayTLS, path: CollectorPaths.gatewayTLSDir, items: nil))
        }
        if exportsTraces, let tempo = ex?.tempo {
            if let t = tempo.bearerTokenSecret {
                env.append(SecretEnv(name: "TEMPO_BEARER_TOKEN", secret: t.name, key: t.key))
            }
            if let ca = tempo.caSecret {
                mounts.append(SecretMount(volume: "tempo-ca", secret: ca.name, path: CollectorPaths.tempoCADir, items: [ca.key: "ca.crt"]))
            }
        }
    }
}

extension CollectorInputs {
    /// A backend's username and password (`PREFIX_USERNAME`, `PREFIX_PASSWORD`) and CA bundle.
    mutating func addBackend(prefix: String, credentials: CredentialsRef?, ca: SecretKeyRef?, volume: String, path: String) {
        if let c = credentials {
            env.append(SecretEnv(name: "\(prefix)_USERNAME", secret: c.name, key: c.usernameKey ?? "username"))
            env.append(SecretEnv(name: "\(prefix)_PASSWORD", secret: c.name, key: c.passwordKey ?? "password"))
        }
        if let ca {
            mounts.append(SecretMount(volume: volume, secret: ca.name, path: path, items: [ca.key: "ca.crt"]))
        }
    }
}

/// Agents run on every node (DaemonSet); the optional gateway samples traces whole.
public enum CollectorRole: String, Sendable, Hashable {
    case agent
    case gateway
}

/// Renders the OpenTelemetry Collector configurations of one ctx, for the pinned
/// `otelcol-contrib` version. Pure: the same spec always gives the same config.
/// Credentials never enter it: they are `${env:VAR}` references to Secret-backed
/// environment variables, or files in Secret mounts.
public enum CollectorConfig {
    /// The file_storage extension's id.
    public static let storageID = "file_storage"

    /// Whether a collector of `role` keeps anything on disk: the agents' filelog checkpoints,
    /// and the exporters' persistent sending queues where asked for.
    public static func usesStorage(_ ctx: StackContext, role: CollectorRole) -> Bool {
        let ex = ctx.raw.exporters
        switch role {
        case .agent:
            return CollectorPod.readsPodLogs(ctx, role: .agent) || (ctx.spec.persistentQueues && (ex?.loki != nil || (ex?.tempo != nil && !ctx.hasGateway)))
        case .gateway:
            return ctx.hasGateway && ctx.spec.persistentQueues
        }
    }

    /// The k8sattributes processors of the agents, one per namespace the stack serves (each
    /// may list pods in its own namespace only), or none.
    public static func kubernetesAttributeIDs(_ ctx: StackContext) -> [String] {
        guard ctx.spec.kubernetesAttributes else { return [] }
        return ctx.servedNamespaces.map { "k8sattributes/\($0)" }
    }

    /// The processors every agent pipeline starts with.
    static func base(_ ctx: StackContext) -> [JSONValue] {
        ["memory_limiter"] + kubernetesAttributeIDs(ctx).map(JSONValue.string) + ["resourcedetection", "resource"]
    }

    /// The pod fields k8sattributes adds (`k8s.node.name` too, where the telemetry lacks it).
    public static let kubernetesMetadata = ["k8s.namespace.name", "k8s.pod.name", "k8s.pod.uid", "k8s.pod.start_time", "k8s.deployment.name", "k8s.node.name"]

    static func kubernetesAttributes(namespace: String) -> JSONValue {
        [
            "auth_type": "serviceAccount",
            "passthrough": false,
            // Only the pods of this node, in this namespace: the informer lists no more.
            "filter": ["node_from_env_var": "K8S_NODE_NAME", "namespace": .string(namespace)],
            "extract": ["metadata": .array(kubernetesMetadata.map(JSONValue.string))],
            // Pod log records carry the pod's uid (from the file path); OTLP from an app is
            // matched by its address.
            "pod_association": [
                ["sources": [["from": "resource_attribute", "name": "k8s.pod.uid"]]],
                ["sources": [["from": "resource_attribute", "name": "k8s.pod.ip"]]],
                ["sources": [["from": "connection"]]],
            ],
        ]
    }

    /// file_storage in the collector's own directory; compaction works there too (the root
    /// filesystem is read-only) and gives space back once a backlog drained.
    static let fileStorage: JSONValue = [
        "directory": .string(CollectorPaths.storage),
        "create_directory": false,
        "timeout": "1s",
        "compaction": ["directory": .string(CollectorPaths.storage), "on_start": true, "on_rebound": true],
    ]

    /// An exporter's sending queue: on disk where the spec asks for persistence.
    static func sendingQueue(_ ctx: StackContext, role: CollectorRole) -> JSONValue {
        var q: JSONObject = ["enabled": true, "queue_size": .int(ctx.spec.queueSize)]
        if ctx.spec.persistentQueues && usesStorage(ctx, role: role) { q["storage"] = .string(storageID) }
        return .object(q)
    }

    /// The filelog operators: the container runtime's format, then JSON bodies, whose
    /// trace and span ids become the record's trace context (`trace_id`/`span_id`, or
    /// `otelTraceID`/`otelSpanID` as OpenTelemetry's Python logging instrumentation names them).
    public static let fileLogOperators: JSONValue = {
        var ops: [JSONValue] = [
            ["type": "container", "id": "container-parser"],
            [
                "type": "json_parser", "id": "json-body", "if": #"body matches "^\\s*\\{""#, "parse_from": "body", "parse_to": "attributes",
                "on_error": "send_quiet",
            ],
        ]
        for (trace, span) in [("trace_id", "span_id"), ("otelTraceID", "otelSpanID")] {
            ops.append([
                "type": "trace_parser", "id": .string("trace-context-\(trace)"), "if": .string("attributes.\(trace) != nil"),
                "trace_id": ["parse_from": .string("attributes.\(trace)")],
                "span_id": ["parse_from": .string("attributes.\(span)")],
                "on_error": "send_quiet",
            ])
            for field in [trace, span] {
                ops.append(["type": "remove", "id": .string("drop-\(field)"), "if": .string("attributes.\(field) != nil"), "field": .string("attributes.\(field)")])
            }
        }
        return .array(ops)
    }()

    static func memoryLimiter(_ eff: ResolvedSpec) -> JSONValue {
        ["check_interval": "1s", "limit_mib": .int(eff.memoryLimitMiB), "spike_limit_mib": .int(eff.memorySpikeLimitMiB)]
    }

    static func commonProcessors(_ ctx: StackContext) -> JSONObject {
        let eff = ctx.spec
        var processors: JSONObject = [
            "memory_limiter": memoryLimiter(eff),
            // The system detector would name the host after the collector's pod: host.name
            // and k8s.node.name come from the node the pod runs on instead, where the
            // telemetry does not carry them already (an app's own host.name stays).
            "resourcedetection": [
                "detectors": ["env", "system"], "timeout": "5s", "override": false,
                "system": ["resource_attributes": ["host.name": ["enabled": false], "host.id": ["enabled": false]]],
            ],
            "resource": ["attributes": [
                ["key": "deployment.environment", "value": .string(eff.environment.rawValue), "action": "upsert"],
                ["key": "host.name", "value": "${env:K8S_NODE_NAME}", "action": "insert"],
                ["key": "k8s.node.name", "value": "${env:K8S_NODE_NAME}", "action": "insert"],
            ]],
            "batch": Batching.processor(eff),
        ]
        for ns in ctx.servedNamespaces where eff.kubernetesAttributes {
            processors["k8sattributes/\(ns)"] = kubernetesAttributes(namespace: ns)
        }
        return processors
    }

    static func tailSampling(_ eff: ResolvedSpec) -> JSONValue {
        var policies: [JSONValue] = []
        if eff.sampleErrors {
            policies.append(["name": "errors", "type": "status_code", "status_code": ["status_codes": ["ERROR"]]])
        }
        policies.append(["name": "latency", "type": "latency", "latency": ["threshold_ms": .int(eff.latencyThresholdMs)]])
        policies.append(["name": "probabilistic", "type": "probabilistic", "probabilistic": ["sampling_percentage": .double(eff.samplingPercentage)]])
        return [
            "decision_wait": .string(ResolvedSpec.goDuration(eff.decisionWaitSeconds)), "num_traces": .int(eff.numTraces), "expected_new_traces_per_sec": 100,
            "policies": .array(policies),
        ]
    }

    static func tempoExporter(_ ctx: StackContext, role: CollectorRole, _ tempo: TempoExporterSpec, extensions: inout JSONObject, names: inout [JSONValue]) -> JSONValue {
        var e: JSONObject = ["endpoint": .string(tempo.endpoint)]
        var t: JSONObject = [:]
        if tempo.caSecret != nil { t["ca_file"] = .string("\(CollectorPaths.tempoCADir)/ca.crt") }
        if tempo.insecure == true { t["insecure"] = true }
        if !t.isEmpty { e["tls"] = .object(t) }
        if tempo.bearerTokenSecret != nil {
            extensions["bearertokenauth/tempo"] = ["token": "${env:TEMPO_BEARER_TOKEN}"]
            names.append("bearertokenauth/tempo")
            e["auth"] = ["authenticator": "bearertokenauth/tempo"]
        }
        e["sending_queue"] = sendingQueue(ctx, role: role)
        e["retry_on_failure"] = ["enabled": true]
        return .object(e)
    }

    /// The agent (DaemonSet) config.
    public static func agent(_ ctx: StackContext) -> JSONValue {
        let eff = ctx.spec
        let exporters = ctx.raw.exporters
        let name = ctx.name
        let ns = ctx.namespace

        var tls: JSONValue? = nil
        if eff.tlsEnabled {
            var t: JSONObject = [
                "cert_file": .string("\(CollectorPaths.tlsDir)/tls.crt"),
                "key_file": .string("\(CollectorPaths.tlsDir)/tls.key"),
                "reload_interval": "1m",
                "min_version": "1.2",
            ]
            // Required: every client presents a certificate from a CA in the bundle, which
            // is re-read when it changes (a CA rollover). The collector's TLS server has no
            // "verify if presented" mode, so Optional issues client certificates without
            // requiring them: BasicAuth stays the gate until clients move to Required.
            if eff.clientAuth == .required {
                t["client_ca_file"] = .string("\(CollectorPaths.tlsDir)/ca.crt")
                t["client_ca_file_reload"] = true
            }
            tls = .object(t)
        }
        func protocolConfig(_ port: Int) -> JSONValue {
            var p: JSONObject = ["endpoint": .string("0.0.0.0:\(port)")]
            // gRPC: apps' SDK batches (512 spans by default) of large spans fit.
            if port == CollectorPorts.otlpGRPC { p["max_recv_msg_size_mib"] = .int(Batching.receiverLimitMiB) }
            if let tls { p["tls"] = tls }
            if eff.basicAuth { p["auth"] = ["authenticator": "basicauth/server"] }
            return .object(p)
        }

        var receivers: JSONObject = [
            "otlp": ["protocols": ["grpc": protocolConfig(CollectorPorts.otlpGRPC), "http": protocolConfig(CollectorPorts.otlpHTTP)]]
        ]
        var metricsReceivers: [JSONValue] = ["otlp", "spanmetrics"]
        if eff.hostMetrics {
            receivers["hostmetrics"] = [
                "collection_interval": .string(eff.hostMetricsInterval),
                "root_path": .string(CollectorPaths.hostRoot),
                "scrapers": [
                    "cpu": ["metrics": ["system.cpu.utilization": ["enabled": true]]],
                    "memory": ["metrics": ["system.memory.utilization": ["enabled": true]]],
                    // No filesystem scraper: it needs the host's `/`, which no collector mounts.
                    "load": [:], "disk": [:], "network": [:],
                ],
            ]
            metricsReceivers.append("hostmetrics")
        }

        var extensions: JSONObject = ["health_check": ["endpoint": .string("0.0.0.0:\(CollectorPorts.health)")]]
        var extensionNames: [JSONValue] = ["health_check"]
        if eff.basicAuth {
            extensions["basicauth/server"] = ["htpasswd": ["file": .string(CollectorPaths.htpasswdFile)]]
            extensionNames.append("basicauth/server")
        }
        if usesStorage(ctx, role: .agent) {
            extensions[storageID] = fileStorage
            extensionNames.append(.string(storageID))
        }
        let head = base(ctx)

        var processors = commonProcessors(ctx)
        var exp: JSONObject = [
            "prometheus": ["endpoint": .string("0.0.0.0:\(CollectorPorts.metrics)"), "resource_to_telemetry_conversion": ["enabled": true]]
        ]
        var metricsExporters: [JSONValue] = ["prometheus"]
        var pipelines: JSONObject = [:]

        if let loki = exporters?.loki {
            var e: JSONObject = ["endpoint": .string(loki.endpoint)]
            var t: JSONObject = [:]
            if loki.caSecret != nil { t["ca_file"] = .string("\(CollectorPaths.lokiCADir)/ca.crt") }
            if loki.insecureSkipVerify == true { t["insecure_skip_verify"] = true }
            if !t.isEmpty { e["tls"] = .object(t) }
            if loki.credentialsSecret != nil {
                extensions["basicauth/loki"] = ["client_auth": ["username": "${env:LOKI_USERNAME}", "password": "${env:LOKI_PASSWORD}"]]
                extensionNames.append("basicauth/loki")
                e["auth"] = ["authenticator": "basicauth/loki"]
            }
            e["sending_queue"] = sendingQueue(ctx, role: .agent)
            e["retry_on_failure"] = ["enabled": true]
            exp["otlphttp/loki"] = .object(e)
            var logReceivers: [JSONValue] = ["otlp"]
            if eff.fileLogs {
                receivers["filelog"] = [
                    "include": .array(eff.fileLogInclude.map(JSONValue.string)),
                    // The collector's own logs would feed back into themselves.
                    "exclude": [.string("\(CollectorPaths.podLogs)/\(ns)_\(Naming.collector(name))-*/*/*.log")],
                    "include_file_path": true,
                    "start_at": "end",
                    // Checkpoints: a restarted collector resumes each file where it stopped.
                    "storage": .string(storageID),
                    "operators": fileLogOperators,
                ]
                logReceivers.append("filelog")
            }
            pipelines["logs"] = ["receivers": .array(logReceivers), "processors": .array(head + ["batch"]), "exporters": ["otlphttp/loki"]]
        }
        if let rw = exporters?.remoteWrite {
            var e: JSONObject = ["endpoint": .string(rw.url), "resource_to_telemetry_conversion": ["enabled": true]]
            if rw.caSecret != nil { e["tls"] = ["ca_file": .string("\(CollectorPaths.remoteWriteCADir)/ca.crt")] }
            if rw.credentialsSecret != nil {
                extensions["basicauth/remotewrite"] = [
                    "client_auth": ["username": "${env:PROM_REMOTE_WRITE_USERNAME}", "password": "${env:PROM_REMOTE_WRITE_PASSWORD}"]
                ]
                extensionNames.append("basicauth/remotewrite")
                e["auth"] = ["authenticator": "basicauth/remotewrite"]
            }
            exp["prometheusremotewrite"] = .object(e)
            metricsExporters.append("prometheusremotewrite")
        }

        // spanmetrics sees every span, before sampling drops any.
        var traceExporters: [JSONValue] = ["spanmetrics"]
        if ctx.hasGateway {
            // Tail sampling needs every span of a trace in one place: route by trace ID.
            exp["loadbalancing"] = [
                "routing_key": "traceID",
                // mTLS with the stack's CA: agents dial gateway pods by address, and check
                // the certificate's name against the headless Service's.
                "protocol": [
                    "otlp": [
                        "tls": [
                            "ca_file": .string("\(CollectorPaths.agentTLSDir)/ca.crt"),
                            "cert_file": .string("\(CollectorPaths.agentTLSDir)/tls.crt"),
                            "key_file": .string("\(CollectorPaths.agentTLSDir)/tls.key"),
                            "server_name_override": .string(ctx.names.gatewayHost),
                            "reload_interval": "1m",
                            "min_version": "1.2",
                        ],
                        "sending_queue": ["enabled": true],
                    ]
                ],
                "resolver": ["dns": ["hostname": .string("\(Naming.gatewayHeadless(name)).\(ns).svc.cluster.local"), "port": .string(String(CollectorPorts.otlpGRPC))]],
            ]
            traceExporters.append("loadbalancing")
        } else if let tempo = exporters?.tempo {
            processors["tail_sampling"] = tailSampling(eff)
            exp["otlp/tempo"] = tempoExporter(ctx, role: .agent, tempo, extensions: &extensions, names: &extensionNames)
            pipelines["traces/sampled"] = [
                "receivers": ["otlp"], "processors": .array(head + ["tail_sampling", "batch"]), "exporters": ["otlp/tempo"],
            ]
        }
        pipelines["traces"] = ["receivers": ["otlp"], "processors": .array(head + ["batch"]), "exporters": .array(traceExporters)]
        pipelines["metrics"] = ["receivers": .array(metricsReceivers), "processors": .array(head + ["batch"]), "exporters": .array(metricsExporters)]

        return document(
            receivers: receivers, processors: processors, exporters: exp, extensions: extensions, extensionNames: extensionNames,
            pipelines: pipelines, connectors: ["spanmetrics": spanmetrics]
        )
    }

    /// The gateway (Deployment) config: receives agents' traces by trace ID, samples whole
    /// traces, and exports them to Tempo. Nil when there is no gateway.
    public static func gateway(_ ctx: StackContext) -> JSONValue? {
        let eff = ctx.spec
        guard ctx.hasGateway, let tempo = ctx.raw.exporters?.tempo else { return nil }
        var extensions: JSONObject = ["health_check": ["endpoint": .string("0.0.0.0:\(CollectorPorts.health)")]]
        var extensionNames: [JSONValue] = ["health_check"]
        if usesStorage(ctx, role: .gateway) {
            extensions[storageID] = fileStorage
            extensionNames.append(.string(storageID))
        }
        // Agents already detected and stamped resources; the gateway only samples.
        let processors: JSONObject = [
            "memory_limiter": memoryLimiter(eff),
            "tail_sampling": tailSampling(eff),
            "batch": Batching.processor(eff),
        ]
        let exp: JSONObject = ["otlp/tempo": tempoExporter(ctx, role: .gateway, tempo, extensions: &extensions, names: &extensionNames)]
        return document(
            receivers: [
                "otlp": [
                    "protocols": [
                        "grpc": [
                            "endpoint": .string("0.0.0.0:\(CollectorPorts.otlpGRPC)"),
                            "max_recv_msg_size_mib": .int(Batching.receiverLimitMiB),
                            // Only agents with a certificate from the stack's CA: both the
                            // certificate and the bundle are re-read when they change.
                            "tls": [
                                "cert_file": .string("\(CollectorPaths.gatewayTLSDir)/tls.crt"),
                                "key_file": .string("\(CollectorPaths.gatewayTLSDir)/tls.key"),
                                "client_ca_file": .string("\(CollectorPaths.gatewayTLSDir)/ca.crt"),
                                "client_ca_file_reload": true,
                                "reload_interval": "1m",
                                "min_version": "1.2",
                            ],
                        ]
                    ]
                ]
            ],
            processors: processors, exporters: exp, extensions: extensions, extensionNames: extensionNames,
            pipelines: ["traces": ["receivers": ["otlp"], "processors": ["memory_limiter", "tail_sampling", "batch"], "exporters": ["otlp/tempo"]]],
            connectors: [:]
        )
    }

    static let spanmetrics: JSONValue = [
        "histogram": ["explicit": ["buckets": ["2ms", "8ms", "50ms", "100ms", "200ms", "500ms", "1s", "2s", "5s", "10s"]]],
        // The current HTTP semantic conventions and the old names (older SDKs): a span
        // carries one pair or the other, and only what it carries becomes a label.
        "dimensions": [["name": "http.request.method"], ["name": "http.response.status_code"], ["name": "http.method"], ["name": "http.status_code"], ["name": "http.route"]],
        "metrics_flush_interval": "15s",
    ]

    static func document(
        receivers: JSONObject, processors: JSONObject, exporters: JSONObject, extensions: JSONObject,
        extensionNames: [JSONValue], pipelines: JSONObject, connectors: JSONObject
    ) -> JSONValue {
        var doc: JSONObject = [
            "receivers": .object(receivers),
            "processors": .object(processors),
            "exporters": .object(exporters),
            "extensions": .object(extensions),
            "service": [
                "extensions": .array(extensionNames),
                "pipelines": .object(pipelines),
                // The collector's own metrics on every interface (the default is localhost only),
                // so that Prometheus sees failed sends and full queues.
                "telemetry": [
                    "metrics": [
                        "level": "normal",
                        "readers": [["pull": ["exporter": ["prometheus": ["host": "0.0.0.0", "port": .int(CollectorPorts.telemetry)]]]]],
                    ],
                    "logs": ["level": "info", "encoding": "json"],
                ],
            ],
        ]
        if !connectors.isEmpty { doc["connectors"] = .object(connectors) }
        return Expansion.escapeCollector(.object(doc))
    }

    /// Backwards-compatible name for the agent config.
    public static func render(_ ctx: StackContext) -> JSONValue { agent(ctx) }
}
