import Foundation
import KubeModel

/// Grafana provisioning through the sidecar (kiwigrid k8s-sidecar, as the Grafana Helm
/// chart runs it): ConfigMaps labelled `grafana_datasource: "1"` and `grafana_dashboard: "1"`.
/// Their keys become file names in one folder, so each carries the stack's namespace and name.
public enum GrafanaRender {
    public static let datasourceLabel = "grafana_datasource"
    public static let dashboardLabel = "grafana_dashboard"

    /// A backend's datasource, unique per stack in one Grafana: its uid (`vigil-<kind>-` and
    /// 16 hex digits of the stack's namespace and name, 27 characters, within Grafana's 40)
    /// and its name (`<namespace>/<stack> <Kind>`).
    public enum Backend: String, CaseIterable, Sendable {
        case prometheus, loki, tempo
        var title: String {
            switch self {
            case .prometheus: return "Prometheus"
            case .loki: return "Loki"
            case .tempo: return "Tempo"
            }
        }
    }

    static func stackHash(_ ctx: StackContext) -> Substring {
        sha256Hex(Array("\(ctx.stack.metadata.namespace ?? "")/\(ctx.name)".utf8)).prefix(16)
    }

    public static func uid(_ backend: Backend, _ ctx: StackContext) -> String { "vigil-\(backend.rawValue.prefix(4))-\(stackHash(ctx))" }

    public static func datasourceName(_ backend: Backend, _ ctx: StackContext) -> String { "\(ctx.namespace)/\(ctx.name) \(backend.title)" }

    /// The environment variable Grafana's container must carry for one of a backend's
    /// secrets (`VIGIL_<NAMESPACE>__<STACK>__<BACKEND>_<WHAT>`, upper case, `-` and anything
    /// else as `_`, the parts apart by `__`): the datasource refers to it, so no secret is
    /// written into a ConfigMap.
    public static func envVar(_ backend: Backend, _ what: String, _ ctx: StackContext) -> String {
        func clean(_ s: String) -> String {
            String(s.uppercased().unicodeScalars.map { (($0 >= "A" && $0 <= "Z") || ($0 >= "0" && $0 <= "9")) ? Character($0) : "_" })
        }
        return "VIGIL_\(clean(ctx.namespace))__\(clean(ctx.name))__\(clean(backend.rawValue))_\(what)"
    }

    /// What a datasource needs from Grafana's environment: `name` → the stack's Secret and
    /// key it should come from (documented, and reported for the user to wire).
    public static func environment(_ ctx: StackContext) -> [(name: String, secret: String, key: String)] {
        var out: [(String, String, String)] = []
        if lokiURL(ctx) != nil, let loki = ctx.raw.exporters?.loki {
            if let c = loki.credentialsSecret {
                out.append((envVar(.loki, "USERNAME", ctx), c.name, c.usernameKey ?? "username"))
                out.append((envVar(.loki, "PASSWORD", ctx), c.name, c.passwordKey ?? "password"))
            }
            if let ca = loki.caSecret { out.append((envVar(.loki, "CA", ctx), ca.name, ca.key)) }
        }
        if tempoURL(ctx) != nil, let tempo = ctx.raw.exporters?.tempo {
            if let t = tempo.bearerTokenSecret { out.append((envVar(.tempo, "TOKEN", ctx), t.name, t.key)) }
            if let ca = tempo.caSecret { out.append((envVar(.tempo, "CA", ctx), ca.name, ca.key)) }
        }
        return out
    }

    /// `scheme://host[:port]` of a URL, without its path.
    static func origin(_ url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty else { return nil }
        return String(url[..<schemeEnd.upperBound]) + host
    }

    public static func prometheusURL(_ ctx: StackContext) -> String {
        // The Prometheus Operator's Service for every Prometheus it runs, in the namespace
        // the collectors' NetworkPolicy admits scrapes from.
        ctx.raw.grafana?.prometheusURL ?? "http://prometheus-operated.\(ctx.spec.monitoringNamespace).svc:9090"
    }

    /// The Loki exporter pushes to `…/otlp` or `…/loki/api/v1/push`; queries go to its origin.
    public static func lokiURL(_ ctx: StackContext) -> String? {
        if let url = ctx.raw.grafana?.lokiURL { return url }
        return ctx.raw.exporters?.loki.flatMap { origin($0.endpoint) }
    }

    /// The Tempo exporter sends OTLP gRPC (`host:4317`); Tempo's query API is HTTP on 3200.
    public static func tempoURL(_ ctx: StackContext) -> String? {
        if let url = ctx.raw.grafana?.tempoURL { return url }
        guard let tempo = ctx.raw.exporters?.tempo else { return nil }
        var hostPort = tempo.endpoint
        var scheme = tempo.insecure == true ? "http" : "https"
        if let r = hostPort.range(of: "://") {
            scheme = hostPort.hasPrefix("http://") ? "http" : "https"
            hostPort = String(hostPort[r.upperBound...])
        }
        hostPort = String(hostPort.prefix { $0 != "/" })
        var host = hostPort
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") { host = String(hostPort[..<colon]) }
        return "\(scheme)://\(host):3200"
    }

    /// The datasources file. Grafana expands `$VAR` and `${VAR}` in provisioning files:
    /// every string, its own variables and the user's URLs alike, is escaped in one pass
    /// (`Expansion.escapeGrafana`), so Vigil writes its variables with one `$` here.
    public static func datasources(_ ctx: StackContext) throws -> String {
        let loki = lokiURL(ctx)
        let tempo = tempoURL(ctx)
        let promUID = uid(.prometheus, ctx), lokiUID = uid(.loki, ctx), tempoUID = uid(.tempo, ctx)
        var list: [JSONValue] = [
            [
                "name": .string(datasourceName(.prometheus, ctx)), "type": "prometheus", "uid": .string(promUID), "access": "proxy",
                "url": .string(prometheusURL(ctx)), "isDefault": .bool(ctx.raw.grafana?.defaultDatasource == true), "editable": false,
                "jsonData": .object([
                    "httpMethod": "POST",
                    "exemplarTraceIdDestinations": tempo == nil ? .array([]) : [["name": "trace_id", "datasourceUid": .string(tempoUID)]],
                ]),
            ],
        ]
        if let loki {
            var jsonData: [String: JSONValue] = ["maxLines": 1000]
            if tempo != nil {
                // Logs that came over OTLP carry the trace id as structured metadata; logs
                // parsed from text carry it in the line.
                jsonData["derivedFields"] = [
                    ["name": "trace_id", "matcherType": "label", "matcherRegex": "trace_id", "datasourceUid": .string(tempoUID), "url": "${__value.raw}", "urlDisplayLabel": "View trace"],
                    [
                        "name": "trace_id_in_line", "matcherType": "regex", "datasourceUid": .string(tempoUID),
                        "matcherRegex": #"(?:trace_?[iI][dD])["=:\s]+"?(\w+)"#,
                        "url": "${__value.raw}", "urlDisplayLabel": "View trace",
                    ],
                ]
            }
            list.append(["name": .string(datasourceName(.loki, ctx)), "type": "loki", "uid": .string(lokiUID), "access": "proxy", "url": .string(loki), "editable": false, "jsonData": .object(jsonData)])
        }
        if let tempo {
            var jsonData: [String: JSONValue] = [
                "nodeGraph": ["enabled": true],
                "serviceMap": ["datasourceUid": .string(promUID)],
                "tracesToMetrics": [
                    "datasourceUid": .string(promUID),
                    "spanStartTimeShift": "-5m", "spanEndTimeShift": "5m",
                    "tags": [["key": "service.name", "value": "service_name"]],
                    "queries": [
                        ["name": "Request rate", "query": .string("sum(rate(\(MonitoringMetrics.spanCalls){$__tags}[5m]))")],
                        ["name": "Error rate", "query": .string("sum(rate(\(MonitoringMetrics.spanCalls){$__tags,status_code=\"STATUS_CODE_ERROR\"}[5m]))")],
                        ["name": "p95 latency", "query": .string("histogram_quantile(0.95, sum by (le) (rate(\(MonitoringMetrics.spanDurationBucket){$__tags}[5m])))")],
                    ],
                ],
            ]
            if loki != nil {
                // The trace id as Loki holds it for OTLP logs: structured metadata, filtered
                // after the stream selector.
                jsonData["tracesToLogsV2"] = [
                    "datasourceUid": .string(lokiUID), "spanStartTimeShift": "-5m", "spanEndTimeShift": "5m",
                    "tags": [["key": "service.name", "value": "service_name"]],
                    "customQuery": true,
                    "query": #"{${__tags}} | trace_id="${__trace.traceId}""#,
                ]
                jsonData["lokiSearch"] = ["datasourceUid": .string(lokiUID)]
            }
            list.append(["name": .string(datasourceName(.tempo, ctx)), "type": "tempo", "uid": .string(tempoUID), "access": "proxy", "url": .string(tempo), "editable": false, "jsonData": .object(jsonData)])
        }
        // Grafana expands `$VAR` in provisioning files: everything above is escaped; the
        // backends' secrets are then referred to by Grafana's environment variables.
        guard case .object(var doc) = Expansion.escapeGrafana(["apiVersion": 1, "datasources": .array(list)]), case .array(var escaped)? = doc["datasources"] else {
            return try YAMLText.document(Expansion.escapeGrafana(["apiVersion": 1, "datasources": .array(list)]))
        }
        func withSecrets(_ index: Int, _ backend: Backend, jsonData extra: [String: JSONValue], secure: [String: JSONValue]) {
            guard index < escaped.count, case .object(var ds) = escaped[index], case .object(var jd)? = ds["jsonData"] else { return }
            for (k, v) in extra { jd[k] = v }
            ds["jsonData"] = .object(jd)
            if !secure.isEmpty { ds["secureJsonData"] = .object(secure) }
            escaped[index] = .object(ds)
        }
        var index = 1
        if loki != nil, let l = ctx.raw.exporters?.loki {
            var extra: [String: JSONValue] = [:]
            var secure: [String: JSONValue] = [:]
            if l.credentialsSecret != nil {
                if case .object(var ds) = escaped[index] {
                    ds["basicAuth"] = true
                    ds["basicAuthUser"] = .string("${\(envVar(.loki, "USERNAME", ctx))}")
                    escaped[index] = .object(ds)
                }
                secure["basicAuthPassword"] = .string("${\(envVar(.loki, "PASSWORD", ctx))}")
            }
            if l.caSecret != nil {
                extra["tlsAuthWithCACert"] = true
                secure["tlsCACert"] = .string("${\(envVar(.loki, "CA", ctx))}")
            }
            withSecrets(index, .loki, jsonData: extra, secure: secure)
        }
        if loki != nil { index += 1 }
        if tempo != nil, let t = ctx.raw.exporters?.tempo {
            var extra: [String: JSONValue] = [:]
            var secure: [String: JSONValue] = [:]
            if t.bearerTokenSecret != nil {
                extra["httpHeaderName1"] = "Authorization"
                secure["httpHeaderValue1"] = .string("Bearer ${\(envVar(.tempo, "TOKEN", ctx))}")
            }
            if t.caSecret != nil {
                extra["tlsAuthWithCACert"] = true
                secure["tlsCACert"] = .string("${\(envVar(.tempo, "CA", ctx))}")
            }
            withSecrets(index, .tempo, jsonData: extra, secure: secure)
        }
        doc["datasources"] = .array(escaped)
        return try YAMLText.document(.object(doc))
    }

    public static func dashboardUID(_ ctx: StackContext) -> String {
        "vigil-" + sha256Hex(Array("\(ctx.stack.metadata.namespace ?? "")/\(ctx.name)".utf8)).prefix(16)
    }

    /// The overview dashboard: p95 latency, error rate, RPS, CPU, memory, logs; templated by
    /// environment and service, on the metric names of `MonitoringMetrics`.
    public static func dashboard(_ ctx: StackContext) throws -> String {
        let ns = ctx.namespace
        let env = ctx.spec.environment.rawValue
        let settings = AlertSettings(ctx)
        let M = MonitoringMetrics.self
        let base = "job=\"\(M.job)\",namespace=\"\(ns)\",deployment_environment=~\"$environment\""
        let services = base + ",service_name=~\"$service\""
        let server = services + ",span_kind=\"SPAN_KIND_SERVER\""
        let rate = "[$__rate_interval]"
        // Panels query the datasource variables, which default to this stack's datasources.
        let prometheus: JSONValue = ["type": "prometheus", "uid": "${prometheus}"]
        let lokiSource: JSONValue = ["type": "loki", "uid": "${loki}"]
        var nextID = 0
        func panel(_ title: String, x: Int, y: Int, unit: String, threshold: Double?, _ targets: [(String, String)]) -> JSONValue {
            nextID += 1
            var defaults: [String: JSONValue] = ["unit": .string(unit)]
            if let threshold {
                defaults["thresholds"] = ["mode": "absolute", "steps": [["color": "green", "value": .null], ["color": "red", "value": .double(threshold)]]]
                defaults["custom"] = ["thresholdsStyle": ["mode": "line"]]
            }
            return [
                "id": .int(nextID), "type": "timeseries", "title": .string(title), "datasource": prometheus,
                "gridPos": ["h": 8, "w": 12, "x": .int(x), "y": .int(y)],
                "fieldConfig": ["defaults": .object(defaults), "overrides": []],
                "options": ["legend": ["displayMode": "table", "placement": "bottom"], "tooltip": ["mode": "multi"]],
                "targets": .array(targets.enumerated().map { i, t in
                    ["refId": .string(String(UnicodeScalar(UInt8(65 + i)))), "expr": .string(t.0), "legendFormat": .string(t.1), "datasource": prometheus]
                }),
            ]
        }
        var panels: [JSONValue] = [
            panel("p95 latency", x: 0, y: 0, unit: "ms", threshold: Double(settings.latencyP95Ms), [
                ("histogram_quantile(0.95, sum by (le, service_name) (rate(\(M.spanDurationBucket){\(server)}\(rate))))", "{{service_name}}"),
            ]),
            panel("Error rate", x: 12, y: 0, unit: "percentunit", threshold: settings.errorRatio, [
                ("sum by (service_name) (rate(\(M.spanCalls){\(server),status_code=\"STATUS_CODE_ERROR\"}\(rate))) / sum by (service_name) (rate(\(M.spanCalls){\(server)}\(rate)))", "{{service_name}}"),
            ]),
            panel("Requests per second", x: 0, y: 8, unit: "reqps", threshold: nil, [
                ("sum by (service_name) (rate(\(M.spanCalls){\(server)}\(rate)))", "{{service_name}}"),
            ]),
            panel("CPU utilization", x: 12, y: 8, unit: "percentunit", threshold: settings.cpuUtilization, [
                ("1 - avg by (host_name) (\(M.cpuUtilization){\(base),state=\"idle\"})", "{{host_name}}"),
            ]),
            panel("Memory utilization", x: 0, y: 16, unit: "percentunit", threshold: settings.memoryUtilization, [
                ("sum by (host_name) (\(M.memoryUtilization){\(base),state=\"used\"})", "{{host_name}}"),
            ]),
        ]
        if lokiURL(ctx) != nil {
            nextID += 1
            panels.append([
                "id": .int(nextID), "type": "logs", "title": "Logs",
                "datasource": lokiSource,
                "gridPos": ["h": 8, "w": 12, "x": 12, "y": 16],
                "options": ["showTime": true, "wrapLogMessage": true, "enableLogDetails": true, "sortOrder": "Descending"],
                "targets": [["refId": "A", "expr": "{service_name=~\"$service\", deployment_environment=~\"$environment\"}", "datasource": lokiSource]],
            ])
        }
        func variable(_ name: String, _ label: String, query: String, current: String?, all: Bool) -> JSONValue {
            var v: [String: JSONValue] = [
                "name": .string(name), "label": .string(label), "type": "query", "datasource": prometheus,
                "query": ["query": .string(query), "refId": .string("\(name)-var")], "definition": .string(query),
                "refresh": 2, "sort": 1, "includeAll": .bool(all), "multi": .bool(all),
            ]
            if let current { v["current"] = ["text": .string(current), "value": .string(current), "selected": true] }
            if all { v["allValue"] = ".*" }
            return .object(v)
        }
        func datasourceVariable(_ backend: Backend) -> JSONValue {
            [
                "name": .string(backend.rawValue), "label": .string(backend.title), "type": "datasource", "query": .string(backend.rawValue),
                "current": ["text": .string(datasourceName(backend, ctx)), "value": .string(uid(backend, ctx)), "selected": true],
                "hide": 0, "refresh": 1, "includeAll": false, "multi": false,
            ]
        }
        let datasourceVariables = [datasourceVariable(.prometheus)] + (lokiURL(ctx) != nil ? [datasourceVariable(.loki)] : [])
        let doc: JSONValue = [
            "uid": .string(dashboardUID(ctx)),
            "title": .string("Vigil overview: \(ctx.name) (\(env))"),
            "tags": ["vigil", "opentelemetry", .string(env)],
            "timezone": "browser", "schemaVersion": 39, "version": 1, "editable": false, "refresh": "30s",
            "time": ["from": "now-6h", "to": "now"],
            "templating": ["list": .array(datasourceVariables + [
                variable("environment", "Environment", query: "label_values(\(M.spanCalls){job=\"\(M.job)\",namespace=\"\(ns)\"}, deployment_environment)", current: env, all: false),
                variable("service", "Service", query: "label_values(\(M.spanCalls){job=\"\(M.job)\",namespace=\"\(ns)\",deployment_environment=~\"$environment\"}, service_name)", current: nil, all: true),
            ])],
            "panels": .array(panels),
        ]
        return String(decoding: doc.serialized(), as: UTF8.self)
    }

    public static func datasourcesConfigMap(_ ctx: StackContext) throws -> JSONValue {
        sidecarConfigMap(ctx, suffix: "grafana-datasources", label: datasourceLabel, file: "datasources.yaml", content: try datasources(ctx))
    }

    public static func dashboardConfigMap(_ ctx: StackContext) throws -> JSONValue {
        sidecarConfigMap(ctx, suffix: "grafana-dashboards", label: dashboardLabel, file: "overview.json", content: try dashboard(ctx))
    }

    /// A ConfigMap for the sidecar: its label, and one file named `<namespace>-<stack>-<file>`.
    static func sidecarConfigMap(_ ctx: StackContext, suffix: String, label: String, file: String, content: String) -> JSONValue {
        let name = ctx.name
        return [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(Naming.name(name, suffix)), "labels": [label: "1"]],
            "data": ["\(ctx.namespace)-\(name)-\(file)": .string(content)],
        ]
    }
}
