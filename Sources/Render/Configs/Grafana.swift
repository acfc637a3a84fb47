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

    public static func uid(_ backend: Backend, _ ctx: StackContext) -> String { uid(backend, stackHash: stackHash(ctx)) }

    static func uid(_ backend: Backend, stackHash: Substring) -> String { "vigil-\(backend.rawValue.prefix(4))-\(stackHash)" }

    public static func datasourceName(_ backend: Backend, _ ctx: StackContext) -> String { datasourceName(backend, namespace: ctx.namespace, name: ctx.name) }

    static func datasourceName(_ backend: Backend, namespace: String, name: String) -> String { "\(namespace)/\(name) \(backend.title)" }

    /// The environment variable Grafana's container must carry for one of a backend's
    /// secrets (`VIGIL_<NAMESPACE>__<STACK>__<BACKEND>_<WHAT>`, upper case, `-` and anything
    /// else as `_`, the parts apart by `__`): the datasource refers to it, so no secret is
    /// written into a ConfigMap.
    public static func envVar(_ backend: Backend, _ what: String, _ ctx: StackContext) -> String {
        func clean(_ s: String) -> String {
            if s.utf8.allSatisfy({ $0 < 0x80 }) {
                // ASCII (names and namespaces are): byte by byte, as below.
                return String(unsafeUninitializedCapacity: s.utf8.count) { out in
                    for (i, c) in s.utf8.enumerated() {
                        let u = c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z") ? c - 0x20 : c
                        out[i] = (u >= UInt8(ascii: "A") && u <= UInt8(ascii: "Z")) || (u >= UInt8(ascii: "0") && u <= UInt8(ascii: "9")) ? u : UInt8(ascii: "_")
                    }
                    return s.utf8.count
                }
            }
            // Upper-cased first (ß becomes SS), then each scalar outside A-Z and 0-9 is one `_`.
            var out = ""
            out.reserveCapacity(s.utf8.count)
            for u in s.uppercased().unicodeScalars {
                out.unicodeScalars.append((u >= "A" && u <= "Z") || (u >= "0" && u <= "9") ? u : "_")
            }
            return out
        }
        return "VIGIL_\(clean(ctx.namespace))__\(clean(ctx.name))__\(clean(backend.rawValue))_\(what)"
    }

    /// What a datasource needs from Grafana's environment: `name` → the stack's Secret and
    /// key it should come from (documented, and reported for the user to wire).
    public static func environment(_ ctx: StackContext) -> [(name: String, secret: String, key: String)] {
        [Backend.loki, .tempo].flatMap { backend in secretParts(backend, ctx).secrets.map { (envVar(backend, $0.what, ctx), $0.secret, $0.key) } }
    }

    /// One of a backend's secrets in its datasource: the field it fills (`secureJsonData`'s,
    /// or `basicAuthUser`), with what prefix, and the stack's Secret and key it comes from.
    struct DatasourceSecret: Sendable, Hashable {
        var path: [String]
        var prefix: String = ""
        var what: String
        var secret: String
        var key: String
    }

    /// What a backend's datasource adds for the credentials and CA the stack has for it:
    /// plain fields, `jsonData` entries, and the secrets themselves.
    static func secretParts(_ backend: Backend, _ ctx: StackContext) -> (top: JSONObject, jsonData: JSONObject, secrets: [DatasourceSecret]) {
        var top: JSONObject = [:]
        var jsonData: JSONObject = [:]
        var secrets: [DatasourceSecret] = []
        switch backend {
        case .prometheus: break
        case .loki:
            guard lokiURL(ctx) != nil, let loki = ctx.raw.exporters?.loki else { break }
            if let c = loki.credentialsSecret {
                top["basicAuth"] = true
                secrets.append(DatasourceSecret(path: ["basicAuthUser"], what: "USERNAME", secret: c.name, key: c.usernameKey ?? "username"))
                secrets.append(DatasourceSecret(path: ["secureJsonData", "basicAuthPassword"], what: "PASSWORD", secret: c.name, key: c.passwordKey ?? "password"))
            }
            if let ca = loki.caSecret {
                jsonData["tlsAuthWithCACert"] = true
                secrets.append(DatasourceSecret(path: ["secureJsonData", "tlsCACert"], what: "CA", secret: ca.name, key: ca.key))
            }
        case .tempo:
            guard tempoURL(ctx) != nil, let tempo = ctx.raw.exporters?.tempo else { break }
            if let t = tempo.bearerTokenSecret {
                jsonData["httpHeaderName1"] = "Authorization"
                secrets.append(DatasourceSecret(path: ["secureJsonData", "httpHeaderValue1"], prefix: "Bearer ", what: "TOKEN", secret: t.name, key: t.key))
            }
            if let ca = tempo.caSecret {
                jsonData["tlsAuthWithCACert"] = true
                secrets.append(DatasourceSecret(path: ["secureJsonData", "tlsCACert"], what: "CA", secret: ca.name, key: ca.key))
            }
        }
        return (top, jsonData, secrets)
    }

    /// A datasource with its backend's secret parts, each secret's field set to `value`.
    static func withSecrets(_ ds: JSONValue, _ backend: Backend, _ ctx: StackContext, value: (DatasourceSecret) -> String) -> JSONValue {
        guard case .object(var o) = ds else { return ds }
        let parts = secretParts(backend, ctx)
        for (k, v) in parts.top { o[k] = v }
        if case .object(var jd)? = o["jsonData"] {
            for (k, v) in parts.jsonData { jd[k] = v }
            o["jsonData"] = .object(jd)
        }
        for secret in parts.secrets {
            if secret.path.count == 1 {
                o[secret.path[0]] = .string(value(secret))
            } else {
                var inner: JSONObject = [:]
                if case .object(let existing)? = o[secret.path[0]] { inner = existing }
                inner[secret.path[1]] = .string(value(secret))
                o[secret.path[0]] = .object(inner)
            }
        }
        return .object(o)
    }

    /// `scheme://host[:port]` of a URL, without its path.
    static func origin(_ url: String) -> String? {
        guard let schemeEnd = url.firstRange(ofASCII: "://") else { return nil }
        // Bytes: a URL's delimiters are ASCII (a Character walk cost hundreds of
        // instructions a step).
        let rest = url.utf8[schemeEnd.upperBound...]
        let end = rest.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") || $0 == UInt8(ascii: "#") } ?? rest.endIndex
        guard end != schemeEnd.upperBound else { return nil }
        return String(url[..<end])
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
        if let r = hostPort.firstRange(ofASCII: "://") {
            scheme = hostPort.hasPrefix("http://") ? "http" : "https"
            hostPort = String(hostPort[r.upperBound...])
        }
        // Bytes: the delimiters are ASCII.
        let u = hostPort.utf8
        let hostAndPort = u[..<(u.firstIndex(of: UInt8(ascii: "/")) ?? u.endIndex)]
        var host = hostAndPort
        if let colon = hostAndPort.lastIndex(of: UInt8(ascii: ":")), hostAndPort.last != UInt8(ascii: "]") { host = hostAndPort[..<colon] }
        return "\(scheme)://\(String(decoding: host, as: UTF8.self)):3200"
    }

    /// Each datasource of the stack, by backend, without its secrets.
    static func datasourceList(_ ctx: StackContext) -> [(Backend, JSONValue)] {
        let loki = lokiURL(ctx)
        let tempo = tempoURL(ctx)
        let hash = stackHash(ctx)
        let promUID = uid(.prometheus, stackHash: hash), lokiUID = uid(.loki, stackHash: hash), tempoUID = uid(.tempo, stackHash: hash)
        var list: [(Backend, JSONValue)] = [
            (.prometheus, [
                "name": .string(datasourceName(.prometheus, ctx)), "type": "prometheus", "uid": .string(promUID), "access": "proxy",
                "url": .string(prometheusURL(ctx)), "isDefault": .bool(ctx.raw.grafana?.defaultDatasource == true), "editable": false,
                "jsonData": .object([
                    "httpMethod": "POST",
                    "exemplarTraceIdDestinations": tempo == nil ? .array([]) : [["name": "trace_id", "datasourceUid": .string(tempoUID)]],
                ]),
            ]),
        ]
        if let loki {
            var jsonData: JSONObject = ["maxLines": 1000]
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
            list.append((.loki, ["name": .string(datasourceName(.loki, ctx)), "type": "loki", "uid": .string(lokiUID), "access": "proxy", "url": .string(loki), "editable": false, "jsonData": .object(jsonData)]))
        }
        if let tempo {
            var jsonData: JSONObject = [
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
            list.append((.tempo, ["name": .string(datasourceName(.tempo, ctx)), "type": "tempo", "uid": .string(tempoUID), "access": "proxy", "url": .string(tempo), "editable": false, "jsonData": .object(jsonData)]))
        }
        return list
    }

    /// The datasources file. Grafana expands `$VAR` and `${VAR}` in provisioning files:
    /// every string, its own variables and the user's URLs alike, is escaped in one pass
    /// (`Expansion.escapeGrafana`); the backends' secrets are then referred to by Grafana's
    /// environment variables, with one `$`.
    public static func datasources(_ ctx: StackContext) throws -> String {
        let list = datasourceList(ctx).map { backend, ds in
            withSecrets(Expansion.escapeGrafana(ds), backend, ctx) { "\($0.prefix)${\(envVar(backend, $0.what, ctx))}" }
        }
        return try YAMLText.document(["apiVersion": 1, "datasources": .array(list)])
    }

    public static func dashboardUID(_ ctx: StackContext) -> String { dashboardUID(stackHash: stackHash(ctx)) }

    static func dashboardUID(stackHash: Substring) -> String { "vigil-" + stackHash }

    /// The overview dashboard: p95 latency, error rate, RPS, CPU, memory, logs; templated by
    /// environment and service, on the metric names of `MonitoringMetrics`. Stacks of one
    /// environment, thresholds and logs share all of it but seven strings (their names and
    /// uids): it is written once per such shape with markers in their places
    /// (`DashboardTemplate`), and each stack's copy is that text with its strings written in.
    public static func dashboard(_ ctx: StackContext) throws -> String {
        let logs = lokiURL(ctx) != nil
        let hash = stackHash(ctx)
        let strings = DashboardStrings(
            namespace: ctx.namespace, name: ctx.name, uid: dashboardUID(stackHash: hash),
            prometheusName: datasourceName(.prometheus, ctx), prometheusUID: uid(.prometheus, stackHash: hash),
            lokiName: logs ? datasourceName(.loki, ctx) : "", lokiUID: logs ? uid(.loki, stackHash: hash) : ""
        )
        return DashboardTemplate.shared(DashboardShape(environment: ctx.spec.environment.rawValue, settings: AlertSettings(ctx), logs: logs)).filled(strings)
    }

    /// The dashboard of one shape and one stack's strings, written out: what the template
    /// is made from (with markers for strings), and the tests' reference for it.
    static func dashboardDocument(_ shape: DashboardShape, _ strings: DashboardStrings) -> String {
        let ns = strings.namespace
        let env = shape.environment
        let settings = shape.settings
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
            var defaults: JSONObject = ["unit": .string(unit)]
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
        if shape.logs {
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
            var v: JSONObject = [
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
                "current": ["text": .string(backend == .loki ? strings.lokiName : strings.prometheusName), "value": .string(backend == .loki ? strings.lokiUID : strings.prometheusUID), "selected": true],
                "hide": 0, "refresh": 1, "includeAll": false, "multi": false,
            ]
        }
        let datasourceVariables = [datasourceVariable(.prometheus)] + (shape.logs ? [datasourceVariable(.loki)] : [])
        let doc: JSONValue = [
            "uid": .string(strings.uid),
            "title": .string("Vigil overview: \(strings.name) (\(env))"),
            "tags": ["vigil", "opentelemetry", .string(env)],
            "timezone": "browser", "schemaVersion": 39, "version": 1, "editable": false, "refresh": "30s",
            "time": ["from": "now-6h", "to": "now"],
            "templating": ["list": .array(datasourceVariables + [
                variable("environment", "Environment", query: "label_values(\(M.spanCalls){job=\"\(M.job)\",namespace=\"\(ns)\"}, deployment_environment)", current: env, all: false),
                variable("service", "Service", query: "label_values(\(M.spanCalls){job=\"\(M.job)\",namespace=\"\(ns)\",deployment_environment=~\"$environment\"}, service_name)", current: nil, all: true),
            ])],
            "panels": .array(panels),
        ]
        return doc.withSerialized { String(decoding: $0, as: UTF8.self) }
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

/// The Grafana Operator's objects (grafana.integreatly.org/v1beta1), for a Grafana it runs:
/// one GrafanaDatasource per backend and a GrafanaDashboard, the same content as the
/// sidecar's files. The backends' credentials and CAs are referenced from their Secrets
/// (`valuesFrom`: the operator puts each key's value where the field says `${key}`), so
/// nothing secret is written by Vigil.
public enum GrafanaOperatorRender {
    public static let datasourceResource = ResourceDescriptor(
        group: "grafana.integreatly.org", version: "v1beta1", kind: "GrafanaDatasource", plural: "grafanadatasources")
    public static let dashboardResource = ResourceDescriptor(group: "grafana.integreatly.org", version: "v1beta1", kind: "GrafanaDashboard", plural: "grafanadashboards")

    /// Whether the stack's Grafana provisioning goes to the Grafana Operator: asked for, and
    /// both kinds served.
    public static func wanted(_ ctx: StackContext, kinds: Set<String>) -> Bool {
        ctx.raw.grafana?.operator?.enabled == true && kinds.contains(datasourceResource.plural) && kinds.contains(dashboardResource.plural)
    }

    public static func datasourceName(_ backend: GrafanaRender.Backend, _ ctx: StackContext) -> String { Naming.name(ctx.name, "grafana-\(backend.rawValue)") }
    public static func dashboardName(_ ctx: StackContext) -> String { Naming.name(ctx.name, "grafana-overview") }

    /// Every name the stack's Grafana Operator objects can have (to remove them when no
    /// longer wanted).
    public static func names(_ ctx: StackContext) -> [(ResourceDescriptor, String)] {
        GrafanaRender.Backend.allCases.map { (datasourceResource, datasourceName($0, ctx)) } + [(dashboardResource, dashboardName(ctx))]
    }

    static func common(_ ctx: StackContext) -> JSONObject {
        let op = ctx.raw.grafana?.operator
        return [
            "instanceSelector": ["matchLabels": .object((op?.instanceLabels ?? [:]).jsonObject)],
            "allowCrossNamespaceImport": .bool(op?.allowCrossNamespaceImport == true),
        ]
    }

    /// One GrafanaDatasource per backend. Not escaped for provisioning: the operator sends
    /// the datasource to Grafana's API, which expands nothing.
    public static func datasources(_ ctx: StackContext) -> [JSONValue] {
        GrafanaRender.datasourceList(ctx).map { backend, ds in
            var spec = common(ctx)
            spec["uid"] = .string(GrafanaRender.uid(backend, ctx))
            spec["datasource"] = GrafanaRender.withSecrets(ds, backend, ctx) { "\($0.prefix)${\($0.key)}" }
            let valuesFrom: [JSONValue] = GrafanaRender.secretParts(backend, ctx).secrets.map { s in
                ["targetPath": .string(s.path.joined(separator: ".")), "valueFrom": ["secretKeyRef": ["name": .string(s.secret), "key": .string(s.key)]]]
            }
            if !valuesFrom.isEmpty { spec["valuesFrom"] = .array(valuesFrom) }
            return [
                "apiVersion": .string(datasourceResource.apiVersion), "kind": .string(datasourceResource.kind),
                "metadata": ["name": .string(datasourceName(backend, ctx))],
                "spec": .object(spec),
            ]
        }
    }

    public static func dashboard(_ ctx: StackContext) throws -> JSONValue {
        var spec = common(ctx)
        spec["uid"] = .string(GrafanaRender.dashboardUID(ctx))
        spec["json"] = .string(try GrafanaRender.dashboard(ctx))
        return [
            "apiVersion": .string(dashboardResource.apiVersion), "kind": .string(dashboardResource.kind),
            "metadata": ["name": .string(dashboardName(ctx))],
            "spec": .object(spec),
        ]
    }
}
