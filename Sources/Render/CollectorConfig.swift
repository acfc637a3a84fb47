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
}

/// Ports of the collector, as the Service and NetworkPolicy expose them.
public enum CollectorPorts {
    public static let otlpGRPC = 4317
    public static let otlpHTTP = 4318
    public static let metrics = 8889
    public static let health = 13133
}

/// Renders the OpenTelemetry Collector configuration of one stack. Pure: the same spec
/// always gives the same config. Credentials never enter it: they are `${env:VAR}`
/// references to Secret-backed environment variables.
public enum CollectorConfig {
    public static func render(_ stack: ObservabilityStack) -> JSONValue {
        let eff = EffectiveSpec(stack.spec)
        let exporters = stack.spec.exporters

        var tls: JSONValue? = nil
        if eff.tlsEnabled {
            var t: [String: JSONValue] = [
                "cert_file": .string("\(CollectorPaths.tlsDir)/tls.crt"),
                "key_file": .string("\(CollectorPaths.tlsDir)/tls.key"),
                "reload_interval": "1h",
                "min_version": "1.2",
            ]
            if eff.clientAuth == "Required" {
                t["client_ca_file"] = .string("\(CollectorPaths.tlsDir)/ca.crt")
            }
            tls = .object(t)
        }
        func protocolConfig(_ port: Int) -> JSONValue {
            var p: [String: JSONValue] = ["endpoint": .string("0.0.0.0:\(port)")]
            if let tls { p["tls"] = tls }
            if eff.basicAuth { p["auth"] = ["authenticator": "basicauth/server"] }
            return .object(p)
        }

        var receivers: [String: JSONValue] = [
            "otlp": ["protocols": ["grpc": protocolConfig(CollectorPorts.otlpGRPC), "http": protocolConfig(CollectorPorts.otlpHTTP)]]
        ]
        var metricsReceivers: [JSONValue] = ["otlp", "spanmetrics"]
        if eff.hostMetrics {
            receivers["hostmetrics"] = [
                "collection_interval": .string(eff.hostMetricsInterval),
                "root_path": "/hostfs",
                "scrapers": ["cpu": [:], "memory": [:], "load": [:], "disk": [:], "filesystem": [:], "network": [:]],
            ]
            metricsReceivers.append("hostmetrics")
        }

        var extensions: [String: JSONValue] = ["health_check": ["endpoint": .string("0.0.0.0:\(CollectorPorts.health)")]]
        var extensionNames: [JSONValue] = ["health_check"]
        if eff.basicAuth {
            extensions["basicauth/server"] = ["htpasswd": ["file": .string(CollectorPaths.htpasswdFile)]]
            extensionNames.append("basicauth/server")
        }

        let base: [JSONValue] = ["memory_limiter", "resourcedetection", "resource"]
        var processors: [String: JSONValue] = [
            "memory_limiter": ["check_interval": "1s", "limit_mib": .int(eff.memoryLimitMiB), "spike_limit_mib": .int(eff.memorySpikeLimitMiB)],
            "resourcedetection": ["detectors": ["env", "system"], "timeout": "5s", "override": false],
            "resource": ["attributes": [["key": "deployment.environment", "value": .string(eff.environment.rawValue), "action": "upsert"]]],
            "batch": ["send_batch_size": 8192, "timeout": "5s"],
        ]
        var policies: [JSONValue] = [
            ["name": "probabilistic", "type": "probabilistic", "probabilistic": ["sampling_percentage": .double(eff.samplingPercentage)]],
            ["name": "latency", "type": "latency", "latency": ["threshold_ms": .int(eff.latencyThresholdMs)]],
        ]
        if eff.sampleErrors {
            policies.insert(["name": "errors", "type": "status_code", "status_code": ["status_codes": ["ERROR"]]], at: 0)
        }
        processors["tail_sampling"] = ["decision_wait": "10s", "num_traces": 50000, "policies": .array(policies)]

        var exp: [String: JSONValue] = [
            "prometheus": ["endpoint": .string("0.0.0.0:\(CollectorPorts.metrics)"), "resource_to_telemetry_conversion": ["enabled": true]]
        ]
        var metricsExporters: [JSONValue] = ["prometheus"]
        var traceExporters: [JSONValue] = []
        var pipelines: [String: JSONValue] = [:]

        if let loki = exporters?.loki {
            var e: [String: JSONValue] = ["endpoint": .string(loki.endpoint)]
            var t: [String: JSONValue] = [:]
            if loki.caSecret != nil { t["ca_file"] = .string("\(CollectorPaths.lokiCADir)/ca.crt") }
            if loki.insecureSkipVerify == true { t["insecure_skip_verify"] = true }
            if !t.isEmpty { e["tls"] = .object(t) }
            if loki.credentialsSecret != nil {
                extensions["basicauth/loki"] = ["client_auth": ["username": "${env:LOKI_USERNAME}", "password": "${env:LOKI_PASSWORD}"]]
                extensionNames.append("basicauth/loki")
                e["auth"] = ["authenticator": "basicauth/loki"]
            }
            exp["otlphttp/loki"] = .object(e)
            var logReceivers: [JSONValue] = ["otlp"]
            if eff.fileLogs {
                receivers["filelog"] = [
                    "include": .array(eff.fileLogInclude.map(JSONValue.string)),
                    "exclude": ["/var/log/pods/*/otc-container/*.log"],
                    "include_file_path": true,
                    "start_at": "end",
                    "operators": [["type": "container", "id": "container-parser"]],
                ]
                logReceivers.append("filelog")
            }
            pipelines["logs"] = ["receivers": .array(logReceivers), "processors": .array(base + ["batch"]), "exporters": ["otlphttp/loki"]]
        }
        if let tempo = exporters?.tempo {
            var e: [String: JSONValue] = ["endpoint": .string(tempo.endpoint)]
            var t: [String: JSONValue] = [:]
            if tempo.caSecret != nil { t["ca_file"] = .string("\(CollectorPaths.tempoCADir)/ca.crt") }
            if tempo.insecure == true { t["insecure"] = true }
            if !t.isEmpty { e["tls"] = .object(t) }
            if tempo.bearerTokenSecret != nil {
                extensions["bearertokenauth/tempo"] = ["token": "${env:TEMPO_BEARER_TOKEN}"]
                extensionNames.append("bearertokenauth/tempo")
                e["auth"] = ["authenticator": "bearertokenauth/tempo"]
            }
            exp["otlp/tempo"] = .object(e)
            traceExporters.append("otlp/tempo")
        }
        if let rw = exporters?.remoteWrite {
            var e: [String: JSONValue] = ["endpoint": .string(rw.url), "resource_to_telemetry_conversion": ["enabled": true]]
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
        pipelines["traces/spanmetrics"] = ["receivers": ["otlp"], "processors": .array(base), "exporters": ["spanmetrics"]]
        if !traceExporters.isEmpty {
            pipelines["traces"] = [
                "receivers": ["otlp"], "processors": .array(base + ["tail_sampling", "batch"]), "exporters": .array(traceExporters),
            ]
        } else {
            processors["tail_sampling"] = nil
        }
        pipelines["metrics"] = ["receivers": .array(metricsReceivers), "processors": .array(base + ["batch"]), "exporters": .array(metricsExporters)]

        return [
            "receivers": .object(receivers),
            "processors": .object(processors),
            "connectors": [
                "spanmetrics": [
                    "histogram": ["explicit": ["buckets": ["2ms", "8ms", "50ms", "100ms", "200ms", "500ms", "1s", "2s", "5s", "10s"]]],
                    "dimensions": [["name": "http.method"], ["name": "http.status_code"], ["name": "http.route"]],
                    "metrics_flush_interval": "15s",
                ]
            ],
            "exporters": .object(exp),
            "extensions": .object(extensions),
            "service": [
                "extensions": .array(extensionNames),
                "pipelines": .object(pipelines),
                "telemetry": ["metrics": ["level": "normal"], "logs": ["level": "info", "encoding": "json"]],
            ],
        ]
    }
}
