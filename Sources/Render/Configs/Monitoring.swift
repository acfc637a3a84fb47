import KubeModel

/// The metric names the pinned collector (otelcol-contrib 0.120.1) really exposes, as
/// Prometheus sees them through the `prometheus` exporter (on 8889) and the collector's own
/// telemetry (on 8888). The specification's `traces_spanmetrics_*` names are the retired
/// spanmetrics *processor*'s; the connector names its metrics `traces.span.metrics.calls` and
/// `traces.span.metrics.duration` (unit `ms`), which the exporter turns into the names below
/// (`_total` on counters, the unit on the histogram). Span kind and status code values are
/// `SPAN_KIND_*` and `STATUS_CODE_*`; the dimensions `http.request.method`,
/// `http.response.status_code` (current semantic conventions), `http.method`,
/// `http.status_code` (older SDKs) and `http.route` become `http_request_method`,
/// `http_response_status_code`, `http_method`, `http_status_code` and `http_route`. Host metrics with
/// unit `1` get the `_ratio` suffix.
public enum MonitoringMetrics {
    public static let spanCalls = "traces_span_metrics_calls_total"
    public static let spanDurationBucket = "traces_span_metrics_duration_milliseconds_bucket"
    public static let spanDurationCount = "traces_span_metrics_duration_milliseconds_count"
    public static let spanDurationSum = "traces_span_metrics_duration_milliseconds_sum"
    public static let cpuUtilization = "system_cpu_utilization_ratio"
    public static let memoryUtilization = "system_memory_utilization_ratio"
    public static let memoryUsage = "system_memory_usage_bytes"
    /// Failed sends and enqueue failures, per signal, labelled `exporter`.
    public static let sendFailed = [("traces", "otelcol_exporter_send_failed_spans_total"), ("metrics", "otelcol_exporter_send_failed_metric_points_total"), ("logs", "otelcol_exporter_send_failed_log_records_total")]
    public static let enqueueFailed = [("traces", "otelcol_exporter_enqueue_failed_spans_total"), ("metrics", "otelcol_exporter_enqueue_failed_metric_points_total"), ("logs", "otelcol_exporter_enqueue_failed_log_records_total")]
    /// node-exporter, where the collector's host metrics are missing.
    public static let nodeCPU = "node_cpu_seconds_total"
    public static let nodeMemoryAvailable = "node_memory_MemAvailable_bytes"
    public static let nodeMemoryTotal = "node_memory_MemTotal_bytes"

    /// Scrape jobs: the collector's exporter, and its own telemetry.
    public static let job = "otel-collector"
    public static let telemetryJob = "otel-collector-telemetry"
}

extension AlertSettings {
    /// The thresholds of a resolved spec: the spec's, else its environment profile's.
    public init(_ spec: ResolvedSpec, raw: StackSpec) {
        let t = raw.alerting?.thresholds
        self = spec.profile.alerts
        if let v = t?.latencyP95Ms { latencyP95Ms = v }
        if let v = t?.errorRatio { errorRatio = v }
        if let v = t?.cpuUtilization { cpuUtilization = v }
        if let v = t?.memoryUtilization { memoryUtilization = v }
        if let f = t?.forDuration, let s = try? DurationParser.seconds(f) { forSeconds = max(0, Int(s.rounded())) }
    }

    public init(_ ctx: StackContext) { self.init(ctx.spec, raw: ctx.raw) }
}

/// A duration as Prometheus writes it: `1h30m`, `5m`, `45s`, `0s`.
public func prometheusDuration(_ seconds: Int) -> String {
    if seconds <= 0 { return "0s" }
    var rest = seconds
    var out = ""
    for (unit, size) in [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)] where rest >= size {
        out += "\(rest / size)\(unit)"
        rest %= size
    }
    return out
}

/// One alerting rule, as Prometheus and the PrometheusRule CRD both take it.
public struct AlertRule: Sendable, Hashable {
    public var alert: String
    public var expr: String
    public var forSeconds: Int
    public var severity: String
    public var summary: String
    public var description: String
    public var runbook: String
    /// The threshold the expression compares with, for tests and docs.
    public var threshold: Double?
}

/// Prometheus alert rules for one ctx, on the series its collectors produce.
public enum PrometheusRules {
    public static let resource = ResourceDescriptor(group: "monitoring.coreos.com", version: "v1", kind: "PrometheusRule", plural: "prometheusrules")
    public static let serviceMonitorResource = ResourceDescriptor(group: "monitoring.coreos.com", version: "v1", kind: "ServiceMonitor", plural: "servicemonitors")

    /// The group name: unique per ctx, so several stacks load into one Prometheus.
    public static func groupName(_ ctx: StackContext) -> String { groupName(namespace: ctx.namespace, name: ctx.name) }

    static func groupName(namespace: String, name: String) -> String { "vigil.\(namespace).\(name)" }

    /// The selector of a stack's series: its collectors, by job and namespace.
    static func selector(_ namespace: String, job: String = MonitoringMetrics.job, _ extra: String = "") -> String {
        // One interpolation: the rules call this a hundred times a stack.
        "{job=\"\(job)\",namespace=\"\(namespace)\"\(extra.isEmpty ? "" : ",")\(extra)}"
    }

    static func number(_ d: Double) -> String {
        d.rounded() == d && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
    }

    /// The stack's alert rules. Stacks of one environment and alert settings share them but
    /// for their namespace and name: they are written once per such shape with markers in
    /// those places (`RuleTemplate`), and each stack's are that text with its strings in.
    public static func rules(_ ctx: StackContext) -> [AlertRule] {
        RuleTemplate.shared(RuleShape(environment: ctx.spec.environment, settings: AlertSettings(ctx))).filled(namespace: ctx.namespace, name: ctx.name)
    }

    /// The rules of one shape for the stack `namespace/name`, written out: what the template
    /// is made from (with markers for the strings), and the tests' reference for it.
    static func rules(environment env: Environment, settings s: AlertSettings, namespace: String, name: String) -> [AlertRule] {
        let prod = env == .production
        let server = "span_kind=\"SPAN_KIND_SERVER\""
        let M = MonitoringMetrics.self
        let latency = number(Double(s.latencyP95Ms))
        let ratio = number(s.errorRatio)
        let pct = number((s.errorRatio * 1000).rounded() / 10)
        let cpu = number(s.cpuUtilization)
        let mem = number(s.memoryUtilization)
        let window = "[5m]"
        func p95(_ by: String, _ filters: String...) -> String {
            // Several filters: their series together (`or` takes a series matched by both once).
            let rates = filters.map { "rate(\(M.spanDurationBucket)\(selector(namespace, $0))\(window))" }.joined(separator: " or ")
            return "histogram_quantile(0.95, sum by (le, \(by)) (\(rates)))"
        }
        // HTTP spans name their method and status by the current semantic conventions
        // (http.request.method, http.response.status_code) or, from older SDKs, by the old
        // ones (http.method, http.status_code): the HTTP alerts read both.
        func calls(_ filters: String...) -> String {
            "sum by (service_name) (" + filters.map { "rate(\(M.spanCalls)\(selector(namespace, server + "," + $0))\(window))" }.joined(separator: " or ") + ")"
        }
        let traceRunbook = "Find the slow or failing spans in Tempo (Grafana Explore, datasource \(GrafanaRender.datasourceName(.tempo, namespace: namespace, name: name))) and the logs linked by trace_id in Loki; raise the threshold in spec.alerting.thresholds only if the SLO changed."
        var rules: [AlertRule] = [
            AlertRule(
                alert: "HighLatencyP95",
                expr: "\(p95("service_name", server)) > \(latency)",
                forSeconds: s.forSeconds, severity: "warning",
                summary: "p95 latency of {{ $labels.service_name }} is above \(latency) ms",
                description: "The 95th percentile duration of server spans of {{ $labels.service_name }} has been above \(latency) ms for \(prometheusDuration(s.forSeconds)).",
                runbook: traceRunbook, threshold: Double(s.latencyP95Ms)
            ),
            AlertRule(
                alert: "HighLatencyP95_HTTP",
                expr: "\(p95("service_name, http_route", server + ",http_request_method!=\"\"", server + ",http_method!=\"\"")) > \(latency)",
                forSeconds: s.forSeconds, severity: "warning",
                summary: "p95 latency of {{ $labels.service_name }} {{ $labels.http_route }} is above \(latency) ms",
                description: "The 95th percentile duration of HTTP requests to {{ $labels.service_name }} {{ $labels.http_route }} has been above \(latency) ms for \(prometheusDuration(s.forSeconds)).",
                runbook: traceRunbook, threshold: Double(s.latencyP95Ms)
            ),
            AlertRule(
                alert: "HighErrorRate",
                expr: "sum by (service_name) (rate(\(M.spanCalls)\(selector(namespace, server + ",status_code=\"STATUS_CODE_ERROR\""))\(window))) / sum by (service_name) (rate(\(M.spanCalls)\(selector(namespace, server))\(window))) > \(ratio)",
                forSeconds: s.forSeconds, severity: prod ? "critical" : "warning",
                summary: "error rate of {{ $labels.service_name }} is above \(pct)%",
                description: "More than \(pct)% of the server spans of {{ $labels.service_name }} have ended in error for \(prometheusDuration(s.forSeconds)).",
                runbook: traceRunbook, threshold: s.errorRatio
            ),
            AlertRule(
                alert: "HighErrorRate_HTTP",
                expr: "\(calls("http_response_status_code=~\"5..\"", "http_status_code=~\"5..\"")) / \(calls("http_response_status_code!=\"\"", "http_status_code!=\"\"")) > \(ratio)",
                forSeconds: s.forSeconds, severity: prod ? "critical" : "warning",
                summary: "HTTP 5xx rate of {{ $labels.service_name }} is above \(pct)%",
                description: "More than \(pct)% of the HTTP requests served by {{ $labels.service_name }} have answered 5xx for \(prometheusDuration(s.forSeconds)).",
                runbook: traceRunbook, threshold: s.errorRatio
            ),
            AlertRule(
                alert: "HighCPUUtilization",
                // The collector's host metrics; node-exporter's only where those are absent.
                expr: "(1 - avg by (host_name) (\(M.cpuUtilization)\(selector(namespace, "state=\"idle\"")))) > \(cpu)"
                    + " or ((1 - avg by (instance) (rate(\(M.nodeCPU){mode=\"idle\"}\(window)))) > \(cpu) unless on() (count(\(M.cpuUtilization)\(selector(namespace))) > 0))",
                forSeconds: s.forSeconds, severity: "warning",
                summary: "CPU of {{ $labels.host_name }}{{ $labels.instance }} is above \(number(s.cpuUtilization * 100))%",
                description: "CPU utilization has been above \(number(s.cpuUtilization * 100))% for \(prometheusDuration(s.forSeconds)) (collector host metrics, else node-exporter).",
                runbook: "Scaling and performance: find the busy workloads on the node; if it is the collector, tune batch, memory_limiter and tail sampling, or add gateway replicas (spec.collector.gateway.replicas).",
                threshold: s.cpuUtilization
            ),
            AlertRule(
                alert: "HighMemoryUtilization",
                expr: "sum by (host_name) (\(M.memoryUtilization)\(selector(namespace, "state=\"used\""))) > \(mem)"
                    + " or ((1 - \(M.nodeMemoryAvailable) / \(M.nodeMemoryTotal)) > \(mem) unless on() (count(\(M.memoryUtilization)\(selector(namespace))) > 0))",
                forSeconds: s.forSeconds, severity: "warning",
                summary: "memory of {{ $labels.host_name }}{{ $labels.instance }} is above \(number(s.memoryUtilization * 100))%",
                description: "Memory utilization has been above \(number(s.memoryUtilization * 100))% for \(prometheusDuration(s.forSeconds)) (collector host metrics, else node-exporter).",
                runbook: "Scaling and performance: check the collector's memory_limiter (spec.collector.memoryLimiter) and the node's other workloads; sharding collectors or a gateway spreads the load.",
                threshold: s.memoryUtilization
            ),
            AlertRule(
                alert: "OtelCollectorDown",
                expr: "up\(selector(namespace, job: MonitoringMetrics.job)) == 0 or up\(selector(namespace, job: MonitoringMetrics.telemetryJob)) == 0 or absent(up\(selector(namespace)))",
                forSeconds: s.collectorDownForSeconds, severity: "critical",
                summary: "an OpenTelemetry collector of stack \(name) is down",
                description: "Prometheus cannot scrape {{ if $labels.instance }}{{ $labels.instance }}{{ else }}any collector of the stack{{ end }} for \(prometheusDuration(s.collectorDownForSeconds)); telemetry from its node is lost.",
                runbook: "Health checks: curl http://<pod-ip>:13133/ on the collector, kubectl describe the DaemonSet and the stack (kubectl describe observabilitystack), and read the collector's log.",
                threshold: nil
            ),
        ]
        func exportRule(_ name: String, _ series: [(String, String)], _ what: String, severity: String, runbook: String) -> AlertRule {
            let parts = series.map { signal, metric in
                "label_replace(sum by (exporter) (rate(\(metric)\(selector(namespace, job: MonitoringMetrics.telemetryJob))\(window))), \"signal\", \"\(signal)\", \"\", \"\") > 0"
            }
            return AlertRule(
                alert: name, expr: parts.joined(separator: " or "), forSeconds: s.collectorDownForSeconds, severity: severity,
                summary: "exporter {{ $labels.exporter }} \(what) {{ $labels.signal }}",
                description: "The collector's exporter {{ $labels.exporter }} has \(what) {{ $labels.signal }} for \(prometheusDuration(s.collectorDownForSeconds)): that telemetry does not reach its backend.",
                runbook: runbook, threshold: 0
            )
        }
        rules.append(exportRule(
            "OtelExporterSendFailed", MonitoringMetrics.sendFailed, "fails to send", severity: prod ? "critical" : "warning",
            runbook: "Backends: check the reachability and TLS of Loki, Tempo and remote write (curl with the CA, openssl s_client), their credentials Secrets, and the stack's NetworkPolicy egress."
        ))
        rules.append(exportRule(
            "OtelExporterEnqueueFailed", MonitoringMetrics.enqueueFailed, "cannot enqueue", severity: "warning",
            runbook: "Scaling and performance: the sending queue is full because the backend is slow or down; check the backend, then tune the batch processor and the exporter's sending_queue."
        ))
        return rules
    }

    /// The rule groups, as a rules file and a PrometheusRule spec both hold them.
    public static func groups(_ ctx: StackContext) -> JSONValue {
        groups(
            environment: ctx.spec.environment.rawValue, rules: rules(ctx), namespace: ctx.namespace, name: ctx.name,
            namespaceLabel: ctx.namespace, nameLabel: ctx.name
        )
    }

    /// The groups of `rules` for the stack `namespace/name`; the label values given apart
    /// (the rules file's template marks them apart from the strings' other places).
    static func groups(environment env: String, rules: [AlertRule], namespace: String, name: String, namespaceLabel: String, nameLabel: String) -> JSONValue {
        let rules: [JSONValue] = rules.map { r in
            [
                "alert": .string(r.alert),
                "expr": .string(r.expr),
                "for": .string(prometheusDuration(r.forSeconds)),
                // `namespace`: an AlertmanagerConfig routes only its namespace's alerts.
                "labels": ["severity": .string(r.severity), "environment": .string(env), "stack": .string(nameLabel), "namespace": .string(namespaceLabel)],
                "annotations": ["summary": .string(r.summary), "description": .string(r.description), "runbook": .string(r.runbook)],
            ]
        }
        return [["name": .string(groupName(namespace: namespace, name: name)), "rules": .array(rules)]]
    }

    /// `alerts.yml`: the shape's file filled with the stack's namespace and name
    /// (`AlertsFileTemplate`), or written out where they are not Kubernetes names.
    public static func alertsFile(_ ctx: StackContext) throws -> String {
        let shape = RuleShape(environment: ctx.spec.environment, settings: AlertSettings(ctx))
        if let text = AlertsFileTemplate.shared(shape)?.filled(namespace: ctx.namespace, name: ctx.name) { return text }
        return try YAMLText.document(["groups": groups(ctx)])
    }

    public static func prometheusRule(_ ctx: StackContext) -> JSONValue {
        [
            "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": ["name": .string(Naming.name(ctx.name, "alerts")), "labels": .object(ctx.spec.prometheusRuleLabels.jsonObject)],
            "spec": ["groups": groups(ctx)],
        ]
    }

    /// With the Prometheus Operator: scrape the collectors' Services under the same job
    /// names as `prometheus.yml`, so the rules hold either way.
    public static func serviceMonitor(_ ctx: StackContext) -> JSONValue {
        let name = ctx.name
        func endpoint(_ port: String, _ job: String) -> JSONValue {
            [
                "port": .string(port), "path": "/metrics", "interval": "30s",
                "relabelings": [
                    ["targetLabel": "job", "replacement": .string(job)],
                    ["sourceLabels": ["__meta_kubernetes_pod_name"], "targetLabel": "pod"],
                ],
            ]
        }
        return [
            "apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor",
            "metadata": ["name": .string(Naming.collector(name)), "labels": .object(ctx.spec.serviceMonitorLabels.jsonObject)],
            "spec": [
                "selector": ["matchLabels": .object([Labels.stack: .string(Naming.shorten(name)), Labels.managedBy: .string(Labels.managerValue), Annotations.scrapeLabel: "true"])],
                "namespaceSelector": ["matchNames": [.string(ctx.namespace)]],
                "endpoints": [endpoint("metrics", MonitoringMetrics.job), endpoint("telemetry", MonitoringMetrics.telemetryJob)],
            ],
        ]
    }
}

/// `prometheus.yml` for a Prometheus without the operator: the two scrape jobs on the
/// collectors' headless Services (every pod behind them), the rules file, and the
/// Alertmanagers.
public enum PrometheusConfig {
    public static func alertmanagers(_ ctx: StackContext) -> [String] {
        let given = ctx.raw.alerting?.alertmanagers ?? []
        return given.isEmpty ? ["alertmanager-operated.\(ctx.spec.monitoringNamespace).svc:9093"] : given
    }

    public static func render(_ ctx: StackContext) throws -> String {
        let name = ctx.name
        let ns = ctx.namespace
        // DNS service discovery on the headless Services: every pod on its own, with no
        // Kubernetes API permission for Prometheus (and in every Prometheus build).
        func job(_ job: String, port: Int, services: [String]) -> JSONValue {
            [
                "job_name": .string(job),
                "scrape_interval": "30s",
                "dns_sd_configs": [["names": .array(services.map { .string("\($0).\(ns).svc.cluster.local") }), "type": "A", "port": .int(port), "refresh_interval": "30s"]],
                "relabel_configs": [
                    ["target_label": "namespace", "replacement": .string(ns)],
                    ["source_labels": ["__meta_dns_name"], "regex": "([^.]+)\\..*", "target_label": "service"],
                ],
            ]
        }
        var telemetryServices = [Naming.collectorHeadless(name)]
        if ctx.hasGateway { telemetryServices.append(Naming.gatewayHeadless(name)) }
        let doc: JSONValue = [
            "global": [
                "scrape_interval": "30s", "evaluation_interval": "30s",
                "external_labels": ["environment": .string(ctx.spec.environment.rawValue), "stack": .string(name)],
            ],
            "rule_files": ["alerts.yml"],
            "alerting": ["alertmanagers": [["static_configs": [["targets": .array(alertmanagers(ctx).map(JSONValue.string))]]]]],
            "scrape_configs": [
                job(MonitoringMetrics.job, port: CollectorPorts.metrics, services: [Naming.collectorHeadless(name)]),
                job(MonitoringMetrics.telemetryJob, port: CollectorPorts.telemetry, services: telemetryServices),
            ],
        ]
        return try YAMLText.document(doc)
    }

    /// The ConfigMap `<stack>-prometheus`: `prometheus.yml` and `alerts.yml`.
    public static func configMap(_ ctx: StackContext) throws -> JSONValue {
        [
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": ["name": .string(Naming.name(ctx.name, "prometheus"))],
            "data": ["prometheus.yml": .string(try render(ctx)), "alerts.yml": .string(try PrometheusRules.alertsFile(ctx))],
        ]
    }
}

/// The receivers' secrets, read by the operator from the Secrets the spec names. They go
/// into the Alertmanager Secret and nowhere else.
public struct AlertReceiverSecrets: Sendable, Hashable {
    public var slackWebhookURL: String?
    public var pagerDutyRoutingKey: String?
    public var smtpPassword: String?
    public init(slackWebhookURL: String? = nil, pagerDutyRoutingKey: String? = nil, smtpPassword: String? = nil) {
        self.slackWebhookURL = slackWebhookURL
        self.pagerDutyRoutingKey = pagerDutyRoutingKey
        self.smtpPassword = smtpPassword
    }
}

/// Alertmanager executes Go templates in some receiver fields: a user value there that
/// holds `{{` would run as a template (reading other alerts' data, or failing the whole
/// config). Every user value of a templated field goes through here, in one place.
public enum AlertmanagerTemplates {
    /// The fields Alertmanager templates, per receiver kind (`tmpl_string`/`tmpl_secret` in
    /// its configuration reference), among those Vigil fills from users.
    public static let templated: [String: Set<String>] = [
        "pagerduty_configs": ["routing_key", "service_key", "client", "client_url", "description", "severity", "class", "component", "group"],
        "slack_configs": ["channel", "username", "color", "title", "title_link", "pretext", "text", "fallback", "footer", "icon_emoji", "icon_url"],
        "email_configs": ["to", "from", "html", "text"],
    ]

    /// `s` as a template whose output is exactly `s`: each `{{` becomes an action that
    /// prints `{{`. Text outside actions is copied as it is, so nothing else changes.
    public static func escape(_ s: String) -> String {
        guard s.firstRange(ofASCII: "{{") != nil else { return s }
        var out = ""
        var rest = Substring(s)
        while let r = rest.firstRange(of: "{{") {
            out += rest[..<r.lowerBound]
            out += #"{{ "{{" }}"#
            rest = rest[r.upperBound...]
        }
        return out + rest
    }

    /// A receiver's user-given fields, the templated ones escaped.
    public static func literal(_ fields: JSONObject, receiver: String) -> JSONObject {
        let templated = Self.templated[receiver] ?? []
        var out = fields
        for (k, v) in fields where templated.contains(k) {
            if let s = v.stringValue { out[k] = .string(escape(s)) }
        }
        return out
    }
}

/// `alertmanager.yaml` (the key the Prometheus Operator reads from an Alertmanager's
/// `configSecret`): receivers for Slack, PagerDuty and email, routes by severity and
/// environment, and critical inhibiting warning for the same stack.
public enum AlertmanagerConfig {
    /// The Secret's key: the Prometheus Operator reads `alertmanager.yaml`.
    public static let key = "alertmanager.yaml"

    /// The notification policy both outputs share (this file and the AlertmanagerConfig):
    /// the title and text of a notification, and how often a firing group repeats.
    static let title = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.environment }}/{{ .CommonLabels.stack }})"
    static let text = "{{ range .Alerts }}{{ .Annotations.summary }}\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook }}\n{{ end }}"
    static func repeatInterval(_ ctx: StackContext) -> String {
        ["development": "12h", "staging": "4h", "production": "1h"][ctx.spec.environment.rawValue] ?? "4h"
    }

    public static func render(_ ctx: StackContext, secrets: AlertReceiverSecrets) throws -> String {
        let env = ctx.spec.environment.rawValue
        let r = ctx.raw.alerting?.receivers
        var receivers: [JSONValue] = [["name": "null"]]
        var routes: [JSONValue] = []
        let envMatcher = "environment=\"\(env)\""
        let title = AlertmanagerConfig.title, text = AlertmanagerConfig.text
        // User values first, escaped for Alertmanager's templates in one pass; Vigil's own
        // templates (title, text, severity) are added after it.
        if r?.pagerDuty != nil, let key = secrets.pagerDutyRoutingKey {
            var config = AlertmanagerTemplates.literal(["routing_key": .string(key)], receiver: "pagerduty_configs")
            config["severity"] = "{{ .CommonLabels.severity }}"
            config["description"] = .string(title)
            config["send_resolved"] = true
            receivers.append(["name": "pagerduty", "pagerduty_configs": [.object(config)]])
            routes.append(["receiver": "pagerduty", "matchers": ["severity=\"critical\"", .string(envMatcher)], "continue": true])
        }
        if let slack = r?.slack, let url = secrets.slackWebhookURL {
            var user: JSONObject = ["api_url": .string(url)]
            if let channel = slack.channel { user["channel"] = .string(channel) }
            var config = AlertmanagerTemplates.literal(user, receiver: "slack_configs")
            config["title"] = .string(title)
            config["text"] = .string(text)
            config["send_resolved"] = true
            receivers.append(["name": "slack", "slack_configs": [.object(config)]])
            routes.append(["receiver": "slack", "matchers": ["severity=~\"critical|warning\"", .string(envMatcher)], "continue": true])
        }
        if let email = r?.email {
            var user: JSONObject = ["to": .string(email.to), "from": .string(email.from), "smarthost": .string(email.smarthost)]
            if let name = email.username { user["auth_username"] = .string(name) }
            if let password = secrets.smtpPassword { user["auth_password"] = .string(password) }
            var config = AlertmanagerTemplates.literal(user, receiver: "email_configs")
            config["require_tls"] = true
            config["send_resolved"] = true
            config["headers"] = ["Subject": .string(title)]
            receivers.append(["name": "email", "email_configs": [.object(config)]])
            routes.append(["receiver": "email", "matchers": [.string(envMatcher)]])
        }
        let repeatInterval = AlertmanagerConfig.repeatInterval(ctx)
        let doc: JSONValue = [
            "global": ["resolve_timeout": "5m"],
            "route": [
                "receiver": "null",
                "group_by": ["alertname", "stack", "environment"],
                "group_wait": "30s", "group_interval": "5m", "repeat_interval": .string(repeatInterval),
                "routes": .array(routes),
            ],
            "inhibit_rules": [
                ["source_matchers": ["severity=\"critical\""], "target_matchers": ["severity=\"warning\""], "equal": ["stack", "environment"]],
            ],
            "receivers": .array(receivers),
        ]
        return try YAMLText.document(doc)
    }

    /// The component label of the Secret and of the Prometheus Operator's
    /// `AlertmanagerConfig` (the caches keep the Secret's values as digests only).
    public static let component = "alerting"

    /// The Secret `<stack>-alertmanager`.
    public static func secret(_ ctx: StackContext, secrets: AlertReceiverSecrets) throws -> JSONValue {
        SecretBody.make(name: ctx.names.alertmanager, data: [AlertmanagerConfig.key: try render(ctx, secrets: secrets)])
    }
}

/// The routes and receivers as the Prometheus Operator's `AlertmanagerConfig`
/// (monitoring.coreos.com/v1alpha1), for an Alertmanager that other teams share: the
/// operator merges it under its own route, matching this namespace's alerts only. The
/// receivers' credentials stay in the user's Secrets, referenced by name and key.
public enum AlertmanagerConfigObject {
    public static let resource = ResourceDescriptor(group: "monitoring.coreos.com", version: "v1alpha1", kind: "AlertmanagerConfig", plural: "alertmanagerconfigs")

    /// `<stack>-alerts`, like the PrometheusRule (another kind, another API group).
    public static func name(_ ctx: StackContext) -> String { Naming.name(ctx.name, "alerts") }

    static func matcher(_ name: String, _ value: String, _ type: String = "=") -> JSONValue {
        ["name": .string(name), "value": .string(value), "matchType": .string(type)]
    }

    static func secretRef(_ ref: SecretKeyRef) -> JSONValue { ["name": .string(ref.name), "key": .string(ref.key)] }

    /// Whether the stack's alerts go out as an AlertmanagerConfig: asked for, and served.
    public static func wanted(_ ctx: StackContext, monitoringKinds: Set<String>) -> Bool {
        ctx.raw.alerting?.alertmanagerConfig?.enabled == true && monitoringKinds.contains(resource.plural)
    }

    public static func body(_ ctx: StackContext) -> JSONValue {
        let env = ctx.spec.environment.rawValue
        let r = ctx.raw.alerting?.receivers
        let title = AlertmanagerConfig.title, text = AlertmanagerConfig.text
        let inEnvironment = matcher("environment", env)
        var receivers: [JSONValue] = [["name": "null"]]
        var routes: [JSONValue] = []
        // User values that Alertmanager templates are escaped, as in alertmanager.yaml.
        let escape = AlertmanagerTemplates.escape
        if let pagerDuty = r?.pagerDuty {
            receivers.append([
                "name": "pagerduty",
                "pagerdutyConfigs": [["routingKey": secretRef(pagerDuty.routingKeySecret), "severity": "{{ .CommonLabels.severity }}", "description": .string(title), "sendResolved": true]],
            ])
            routes.append(["receiver": "pagerduty", "matchers": [matcher("severity", "critical"), inEnvironment], "continue": true])
        }
        if let slack = r?.slack {
            var config: JSONObject = ["apiURL": secretRef(slack.webhookURLSecret), "title": .string(title), "text": .string(text), "sendResolved": true]
            if let channel = slack.channel { config["channel"] = .string(escape(channel)) }
            receivers.append(["name": "slack", "slackConfigs": [.object(config)]])
            routes.append(["receiver": "slack", "matchers": [matcher("severity", "critical|warning", "=~"), inEnvironment], "continue": true])
        }
        if let email = r?.email {
            var config: JSONObject = [
                "to": .string(escape(email.to)), "from": .string(escape(email.from)), "smarthost": .string(email.smarthost), "requireTLS": true, "sendResolved": true,
                "headers": [["key": "Subject", "value": .string(title)]],
            ]
            if let name = email.username { config["authUsername"] = .string(name) }
            if let password = email.passwordSecret { config["authPassword"] = secretRef(password) }
            receivers.append(["name": "email", "emailConfigs": [.object(config)]])
            routes.append(["receiver": "email", "matchers": [inEnvironment]])
        }
        let repeatInterval = AlertmanagerConfig.repeatInterval(ctx)
        return [
            "apiVersion": .string(resource.apiVersion), "kind": .string(resource.kind),
            "metadata": ["name": .string(name(ctx)), "labels": .object(ctx.spec.alertmanagerConfigLabels.jsonObject)],
            "spec": [
                "route": [
                    "receiver": "null",
                    "groupBy": ["alertname", "stack", "environment"],
                    "groupWait": "30s", "groupInterval": "5m", "repeatInterval": .string(repeatInterval),
                    "matchers": [matcher("stack", ctx.name)],
                    "routes": .array(routes),
                ],
                "receivers": .array(receivers),
                "inhibitRules": [
                    ["sourceMatch": [matcher("severity", "critical")], "targetMatch": [matcher("severity", "warning")], "equal": ["stack", "environment"]],
                ],
            ],
        ]
    }
}

