import Foundation
import KubeModel

/// Grafana provisioning through the sidecar (kiwigrid k8s-sidecar, as the Grafana Helm
/// chart runs it): ConfigMaps labelled `grafana_datasource: "1"` and `grafana_dashboard: "1"`.
/// Their keys become file names in one folder, so each carries the stack's namespace and name.
public enum GrafanaRender {
    public static let datasourceLabel = "grafana_datasource"
    public static let dashboardLabel = "grafana_dashboard"
    public static let prometheusUID = "prometheus_ds"
    public static let lokiUID = "loki_ds"
    public static let tempoUID = "tempo_ds"

    /// `scheme://host[:port]` of a URL, without its path.
    static func origin(_ url: String) -> String? {
        guard let schemeEnd = url.range(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty else { return nil }
        return String(url[..<schemeEnd.upperBound]) + host
    }

    public static func prometheusURL(_ ctx: StackContext) -> String {
        ctx.raw.grafana?.prometheusURL ?? "http://prometheus.\(ctx.namespace).svc:9090"
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
        var list: [JSONValue] = [
            [
                "name": "Prometheus", "type": "prometheus", "uid": .string(prometheusUID), "access": "proxy",
                "url": .string(prometheusURL(ctx)), "isDefault": true, "editable": false,
                "jsonData": .object([
                    "httpMethod": "POST",
                    "exemplarTraceIdDestinations": tempo == nil ? .array([]) : [["name": "trace_id", "datasourceUid": .string(tempoUID)]],
                ]),
            ],
        ]
        if let loki {
            var jsonData: [String: JSONValue] = ["maxLines": 1000]
            if tempo != nil {
                jsonData["derivedFields"] = [
                    [
                        "name": "trace_id", "datasourceUid": .string(tempoUID),
                        "matcherRegex": #"(?:trace_?[iI][dD])["=:\s]+"?(\w+)"#,
                        "url": "${__value.raw}", "urlDisplayLabel": "View trace",
                    ]
                ]
            }
            list.append(["name": "Loki", "type": "loki", "uid": .string(lokiUID), "access": "proxy", "url": .string(loki), "editable": false, "jsonData": .object(jsonData)])
        }
        if let tempo {
            var jsonData: [String: JSONValue] = [
                "nodeGraph": ["enabled": true],
                "serviceMap": ["datasourceUid": .string(prometheusUID)],
                "tracesToMetrics": [
                    "datasourceUid": .string(prometheusUID),
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
                jsonData["tracesToLogsV2"] = [
                    "datasourceUid": .string(lokiUID), "spanStartTimeShift": "-5m", "spanEndTimeShift": "5m",
                    "filterByTraceID": true, "filterBySpanID": false,
                    "tags": [["key": "service.name", "value": "service_name"]],
                ]
                jsonData["lokiSearch"] = ["datasourceUid": .string(lokiUID)]
            }
            list.append(["name": "Tempo", "type": "tempo", "uid": .string(tempoUID), "access": "proxy", "url": .string(tempo), "editable": false, "jsonData": .object(jsonData)])
        }
        return try YAMLText.document(Expansion.escapeGrafana(["apiVersion": 1, "datasources": .array(list)]))
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
        let prometheus: JSONValue = ["type": "prometheus", "uid": .string(prometheusUID)]
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
                "datasource": ["type": "loki", "uid": .string(lokiUID)],
                "gridPos": ["h": 8, "w": 12, "x": 12, "y": 16],
                "options": ["showTime": true, "wrapLogMessage": true, "enableLogDetails": true, "sortOrder": "Descending"],
                "targets": [["refId": "A", "expr": "{service_name=~\"$service\", deployment_environment=~\"$environment\"}", "datasource": ["type": "loki", "uid": .string(lokiUID)]]],
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
        let doc: JSONValue = [
            "uid": .string(dashboardUID(ctx)),
            "title": .string("Vigil overview: \(ctx.name) (\(env))"),
            "tags": ["vigil", "opentelemetry", .string(env)],
            "timezone": "browser", "schemaVersion": 39, "version": 1, "editable": false, "refresh": "30s",
            "time": ["from": "now-6h", "to": "now"],
            "templating": ["list": [
                variable("environment", "Environment", query: "label_values(\(M.spanCalls){job=\"\(M.job)\",namespace=\"\(ns)\"}, deployment_environment)", current: env, all: false),
                variable("service", "Service", query: "label_values(\(M.spanCalls){job=\"\(M.job)\",namespace=\"\(ns)\",deployment_environment=~\"$environment\"}, service_name)", current: nil, all: true),
            ]],
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
