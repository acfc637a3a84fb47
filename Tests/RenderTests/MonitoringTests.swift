import Foundation
import KubeModel
import Render
import Testing
import TestSupport
import Yams

/// The monitoring half of a stack (Prometheus rules and config, Alertmanager, Grafana),
/// checked by the real tools: promtool, amtool, a real Prometheus on loopback.
@Suite struct MonitoringTests {
    static let environments = ["development", "staging", "production"]

    static func example(_ env: String) throws -> ObservabilityStack {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("examples/\(env).yaml"), encoding: .utf8)
        return try #require(try StackFile.parse(text).first)
    }

    /// Receiver secrets as the operator would read them: sentinels to search for.
    static let secrets = AlertReceiverSecrets(
        slackWebhookURL: "https://hooks.slack.com/services/T000/B000/sentinel-slack-\(UUID().uuidString.prefix(8))",
        pagerDutyRoutingKey: "sentinel-pagerduty-\(UUID().uuidString.prefix(12))",
        smtpPassword: "sentinel-smtp-\(UUID().uuidString.prefix(12))"
    )

    /// A scratch folder with `prometheus.yml`, `alerts.yml` and `alertmanager.yml` of a stack.
    static func files(_ stack: ObservabilityStack) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-monitoring-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try PrometheusConfig.render(StackContext(stack)).write(to: dir.appendingPathComponent("prometheus.yml"), atomically: true, encoding: .utf8)
        try PrometheusRules.alertsFile(StackContext(stack)).write(to: dir.appendingPathComponent("alerts.yml"), atomically: true, encoding: .utf8)
        try AlertmanagerConfig.render(StackContext(stack), secrets: secrets).write(to: dir.appendingPathComponent("alertmanager.yml"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test(arguments: environments)
    func promtoolAndAmtoolAcceptEveryExamplesOutput(_ env: String) async throws {
        let stack = try Self.example(env)
        let dir = try Self.files(stack)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rules = try await runTool(["promtool", "check", "rules", dir.appendingPathComponent("alerts.yml").path])
        #expect(rules.status == 0, "\(rules.output)")
        #expect(rules.output.contains("SUCCESS: 9 rules found"), "\(rules.output)")
        let config = try await runTool(["promtool", "check", "config", dir.appendingPathComponent("prometheus.yml").path])
        #expect(config.status == 0, "\(config.output)")
        #expect(config.output.contains("SUCCESS: 1 rule files found"), "\(config.output)")
        let am = try await runTool(["amtool", "check-config", dir.appendingPathComponent("alertmanager.yml").path])
        #expect(am.status == 0, "\(am.output)")
        let receivers = stack.spec.alerting?.receivers
        let count = 1 + (receivers?.slack != nil ? 1 : 0) + (receivers?.pagerDuty != nil ? 1 : 0) + (receivers?.email != nil ? 1 : 0)
        #expect(am.output.contains("- \(count) receivers"), "\(am.output)")
        #expect(am.output.contains("- 1 inhibit rules"), "\(am.output)")
    }

    @Test func theAlertmanagerRoutesBySeverityAndEnvironmentAndCriticalInhibitsWarning() async throws {
        let stack = try Self.example("production")
        let dir = try Self.files(stack)
        defer { try? FileManager.default.removeItem(at: dir) }
        let config = dir.appendingPathComponent("alertmanager.yml").path
        func route(_ labels: String...) async throws -> String {
            let r = try await runTool(["amtool", "config", "routes", "test", "--config.file", config] + labels)
            #expect(r.status == 0, "\(r.output)")
            // amtool warns on stderr that the file overrides --alertmanager.url.
            return r.output.split(separator: "\n").filter { !$0.hasPrefix("Warning:") }.joined().trimmingCharacters(in: .whitespaces)
        }
        #expect(try await route("severity=critical", "environment=production", "stack=fba-bench") == "pagerduty,slack,email")
        #expect(try await route("severity=warning", "environment=production", "stack=fba-bench") == "slack,email")
        #expect(try await route("severity=warning", "environment=staging", "stack=fba-bench") == "null")
        let text = try String(contentsOfFile: config, encoding: .utf8)
        let doc = try #require(try Yams.load(yaml: text) as? [String: Any])
        let inhibit = try #require((doc["inhibit_rules"] as? [[String: Any]])?.first)
        #expect(inhibit["source_matchers"] as? [String] == ["severity=\"critical\""])
        #expect(inhibit["target_matchers"] as? [String] == ["severity=\"warning\""])
        #expect(inhibit["equal"] as? [String] == ["stack", "environment"])
        for secret in [Self.secrets.slackWebhookURL!, Self.secrets.pagerDutyRoutingKey!, Self.secrets.smtpPassword!] {
            #expect(text.contains(secret))
        }
    }

    /// The receivers' secrets are in the Alertmanager Secret and in no other object.
    @Test(arguments: environments)
    func receiverSecretsAreOnlyInTheAlertmanagerSecret(_ env: String) throws {
        let stack = try Self.example(env)
        for kinds in [Set<String>(), ["prometheusrules", "servicemonitors"]] {
            let rendered = try DesiredState.render(StackContext(stack), inputs: RenderInputs(monitoringKinds: kinds, alertSecrets: Self.secrets))
            let alertmanager = Naming.name("fba-bench", "alertmanager")
            var found = 0
            for object in rendered.objects {
                let text = String(decoding: try JSONCoding.encode(object.body), as: UTF8.self)
                let decoded = object.body["data"]?.objectValue?.values.compactMap { $0.stringValue.flatMap { Data(base64Encoded: $0) } }.map { String(decoding: $0, as: UTF8.self) } ?? []
                for secret in [Self.secrets.slackWebhookURL!, Self.secrets.pagerDutyRoutingKey!, Self.secrets.smtpPassword!] {
                    let here = text.contains(secret) || decoded.contains { $0.contains(secret) }
                    if object.name == alertmanager && object.resource.kind == "Secret" {
                        if here { found += 1 }
                    } else {
                        #expect(!here, "\(object.key) holds a receiver secret")
                    }
                }
            }
            let receivers = stack.spec.alerting?.receivers
            let expected = (receivers?.slack != nil ? 1 : 0) + (receivers?.pagerDuty != nil ? 1 : 0) + (receivers?.email?.passwordSecret != nil ? 1 : 0)
            #expect(found == expected)
        }
    }

    /// A shared Alertmanager: an AlertmanagerConfig replaces the alertmanager.yaml Secret
    /// only where it is asked for and served; it references the receivers' Secrets, routes
    /// only this stack's alerts, and escapes the user's template-looking values.
    @Test func anAlertmanagerConfigIsWrittenOnlyWhereAskedForAndServed() throws {
        var stack = try Self.example("production")
        stack.spec.alerting?.receivers?.slack?.channel = "#obs {{ .CommonLabels.secret }}"
        let served: Set<String> = ["prometheusrules", "alertmanagerconfigs"]
        func keys(_ s: ObservabilityStack, _ kinds: Set<String>) throws -> [String] {
            try DesiredState.render(StackContext(s), inputs: RenderInputs(monitoringKinds: kinds, alertSecrets: Self.secrets)).objects.map(\.key)
        }
        // Not asked for: the Secret, though the kind is served.
        #expect(try keys(stack, served).contains("secrets/fba-prod/fba-bench-alertmanager"))
        #expect(try !keys(stack, served).contains { $0.hasPrefix("alertmanagerconfigs/") })
        stack.spec.alerting?.alertmanagerConfig = AlertmanagerConfigOutput(enabled: true, labels: ["alertmanagerConfig": "shared"])
        // Asked for but not served: still the Secret.
        #expect(try keys(stack, ["prometheusrules"]).contains("secrets/fba-prod/fba-bench-alertmanager"))
        let operated = try DesiredState.render(StackContext(stack), inputs: RenderInputs(monitoringKinds: served, alertSecrets: Self.secrets))
        #expect(!operated.objects.contains { $0.key == "secrets/fba-prod/fba-bench-alertmanager" })
        let config = try #require(operated.objects.first { $0.key == "alertmanagerconfigs/fba-prod/fba-bench-alerts" })
        #expect(config.body["apiVersion"] == "monitoring.coreos.com/v1alpha1")
        #expect(config.body["metadata"]?["labels"]?["alertmanagerConfig"] == "shared")
        let spec = try #require(config.body["spec"])
        #expect(spec["route"]?["matchers"] == [["name": "stack", "value": "fba-bench", "matchType": "="]])
        let receivers = spec["receivers"]?.arrayValue ?? []
        #expect(receivers.compactMap { $0["name"]?.stringValue } == ["null", "pagerduty", "slack", "email"])
        let slack = receivers.first { $0["name"] == "slack" }?["slackConfigs"]?.arrayValue?.first
        #expect(slack?["apiURL"] == ["name": "alert-receivers", "key": "slack-webhook-url"])
        #expect(slack?["channel"] == #"#obs {{ "{{" }} .CommonLabels.secret }}"#)
        let email = receivers.first { $0["name"] == "email" }?["emailConfigs"]?.arrayValue?.first
        #expect(email?["authPassword"] == ["name": "alert-receivers", "key": "smtp-password"])
        // No secret value: they stay in the user's Secret.
        let text = try YAMLText.document(config.body)
        #expect(!text.contains(Self.secrets.slackWebhookURL ?? "-") && !text.contains(Self.secrets.pagerDutyRoutingKey ?? "-") && !text.contains(Self.secrets.smtpPassword ?? "-"))
        // The alerts carry their namespace, which the operator's route matches on.
        let rule = try #require(operated.objects.first { $0.resource.kind == "PrometheusRule" })
        let labels = rule.body["spec"]?["groups"]?.arrayValue?.first?["rules"]?.arrayValue?.compactMap { $0["labels"]?["namespace"] }
        #expect(labels?.count == 9 && labels?.allSatisfy { $0 == "fba-prod" } == true)
    }

    @Test func thePrometheusOperatorGetsAPrometheusRuleAndServiceMonitorInsteadOfTheConfigMap() throws {
        let stack = try Self.example("production")
        let plain = try DesiredState.render(StackContext(stack), inputs: RenderInputs(alertSecrets: Self.secrets)).objects.map(\.key)
        #expect(plain.contains("configmaps/fba-prod/fba-bench-prometheus"))
        #expect(!plain.contains { $0.hasPrefix("prometheusrules/") })
        let operated = try DesiredState.render(StackContext(stack), inputs: RenderInputs(monitoringKinds: ["prometheusrules", "servicemonitors"], alertSecrets: Self.secrets))
        let keys = operated.objects.map(\.key)
        #expect(keys.contains("prometheusrules/fba-prod/fba-bench-alerts") && keys.contains("servicemonitors/fba-prod/fba-bench-collector"))
        #expect(!keys.contains("configmaps/fba-prod/fba-bench-prometheus"))
        let rule = try #require(operated.objects.first { $0.resource.kind == "PrometheusRule" })
        let groups = try #require(rule.body["spec"]?["groups"]?.arrayValue)
        #expect(groups.count == 1 && groups[0]["rules"]?.arrayValue?.count == 9)
        // The ServiceMonitor names the same jobs as prometheus.yml, so the rules hold either way.
        let monitor = try #require(operated.objects.first { $0.resource.kind == "ServiceMonitor" })
        let jobs = monitor.body["spec"]?["endpoints"]?.arrayValue?.compactMap { $0["relabelings"]?.arrayValue?.first?["replacement"]?.stringValue }
        #expect(jobs == [MonitoringMetrics.job, MonitoringMetrics.telemetryJob])
        // Only the PrometheusRule with no ServiceMonitor CRD.
        let rulesOnly = try DesiredState.render(StackContext(stack), inputs: RenderInputs(monitoringKinds: ["prometheusrules"])).objects.map(\.key)
        #expect(rulesOnly.contains("prometheusrules/fba-prod/fba-bench-alerts") && !rulesOnly.contains { $0.hasPrefix("servicemonitors/") })
    }

    /// A Kubernetes label selector (matchLabels and matchExpressions), as the Prometheus
    /// Operator evaluates `ruleSelector` and `serviceMonitorSelector`.
    static func selects(_ selector: [String: Any], _ labels: [String: String]) -> Bool {
        for (k, v) in selector["matchLabels"] as? [String: String] ?? [:] where labels[k] != v { return false }
        for e in selector["matchExpressions"] as? [[String: Any]] ?? [] {
            let key = e["key"] as? String ?? "", values = e["values"] as? [String] ?? []
            switch e["operator"] as? String {
            case "In": if !(labels[key].map(values.contains) ?? false) { return false }
            case "NotIn": if labels[key].map(values.contains) ?? false { return false }
            case "Exists": if labels[key] == nil { return false }
            case "DoesNotExist": if labels[key] != nil { return false }
            default: return false
            }
        }
        return true
    }

    @Test func kubePrometheusStacksDefaultSelectorsSelectTheRulesAndMonitorAndTheAlertmanagerKeyIsTheOperators() throws {
        // kube-prometheus-stack's defaults (ruleSelectorNilUsesHelmValues: true): the
        // release's own label, here for a release named kube-prometheus-stack.
        let selector: [String: Any] = try #require(try Yams.load(yaml: "matchLabels: {release: kube-prometheus-stack}") as? [String: Any])
        var stack = try Self.example("production")
        func labels(_ policy: OperatorPolicy, _ kind: String) throws -> [String: String] {
            let ctx = StackContext(stack, spec: ResolvedSpec(stack.spec, namespace: "fba-prod", policy: policy))
            let objects = try DesiredState.render(ctx, inputs: RenderInputs(monitoringKinds: ["prometheusrules", "servicemonitors"], alertSecrets: Self.secrets)).objects
            let o = try #require(objects.first { $0.resource.kind == kind })
            return (o.body["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        }
        let operatorLabels = OperatorPolicy(monitoringLabels: ["release": "kube-prometheus-stack"])
        for kind in ["PrometheusRule", "ServiceMonitor"] {
            #expect(Self.selects(selector, try labels(operatorLabels, kind)), "\(kind) is not selected")
            // Without the operator's labels the selector finds nothing: the check can fail.
            #expect(!Self.selects(selector, try labels(.standard, kind)))
        }
        // A stack adds its own, for a Prometheus that selects on something else.
        stack.spec.alerting = AlertingSpec(prometheusRule: MonitoringObjectSpec(labels: ["prometheus": "team-a"]), serviceMonitor: MonitoringObjectSpec(labels: ["prometheus": "team-a"]))
        let teamSelector: [String: Any] = ["matchExpressions": [["key": "prometheus", "operator": "In", "values": ["team-a", "team-b"]]]]
        for kind in ["PrometheusRule", "ServiceMonitor"] {
            let l = try labels(operatorLabels, kind)
            #expect(Self.selects(teamSelector, l) && Self.selects(selector, l))
        }
        // Vigil's own keys are refused.
        stack.spec.alerting = AlertingSpec(prometheusRule: MonitoringObjectSpec(labels: ["app.kubernetes.io/instance": "x"]))
        guard case .failure(let invalid) = StackValidator.resolve(stack) else {
            Issue.record("a label under app.kubernetes.io/ was accepted")
            return
        }
        #expect(invalid.errors.contains { $0.field == "spec.alerting.prometheusRule.labels.app.kubernetes.io/instance" })
        // The Alertmanager Secret carries the key the Prometheus Operator reads.
        let secret = try AlertmanagerConfig.secret(StackContext(try Self.example("production")), secrets: Self.secrets)
        #expect(secret["data"]?.objectValue?.keys.sorted() == ["alertmanager.yaml"] || secret["stringData"]?.objectValue?.keys.sorted() == ["alertmanager.yaml"])
    }

    /// The defaults agree: the namespace the collectors admit scrapes from is the one the
    /// default Prometheus and Alertmanager addresses point into, whatever the operator sets.
    @Test func theScrapePeersAndTheDefaultMonitoringAddressesAgree() throws {
        let stack = try Self.example("staging")
        for monitoring in ["monitoring", "kube-prometheus"] {
            let ctx = StackContext(stack, spec: ResolvedSpec(stack.spec, namespace: "fba-staging", policy: OperatorPolicy(monitoringNamespace: monitoring)))
            let policy = try #require(NetworkPolicyRender.render(ctx).first)
            let metricsRule = try #require(policy["spec"]?["ingress"]?.arrayValue?.first { rule in
                rule["ports"]?.arrayValue?.contains { $0["port"]?.intValue == 8889 } == true
            })
            let namespaces = metricsRule["from"]?.arrayValue?.compactMap { $0["namespaceSelector"]?["matchLabels"]?["kubernetes.io/metadata.name"]?.stringValue }
            #expect(namespaces == [monitoring])
            #expect(GrafanaRender.prometheusURL(ctx) == "http://prometheus-operated.\(monitoring).svc:9090")
            #expect(PrometheusConfig.alertmanagers(ctx) == ["alertmanager-operated.\(monitoring).svc:9093"])
        }
    }

    @Test func thresholdsComeFromTheEnvironmentUnlessTheSpecSetsThem() throws {
        func settings(_ env: Environment, _ t: AlertThresholds? = nil) -> AlertSettings {
            AlertSettings(StackContext(ObservabilityStack(metadata: ObjectMeta(name: "s"), spec: StackSpec(environment: env, alerting: t.map { AlertingSpec(thresholds: $0) }))))
        }
        #expect(settings(.production).latencyP95Ms == 500 && settings(.staging).latencyP95Ms == 1000 && settings(.development).latencyP95Ms == 2000)
        #expect(settings(.production).forSeconds == 300 && settings(.development).forSeconds == 900)
        let custom = settings(.production, AlertThresholds(latencyP95Ms: 750, errorRatio: 0.1, cpuUtilization: 0.5, memoryUtilization: 0.6, forDuration: "90s"))
        #expect(custom.latencyP95Ms == 750 && custom.errorRatio == 0.1 && custom.cpuUtilization == 0.5 && custom.memoryUtilization == 0.6 && custom.forSeconds == 90)
        #expect(prometheusDuration(90) == "1m30s" && prometheusDuration(3600) == "1h" && prometheusDuration(0) == "0s")
        var stack = ObservabilityStack(metadata: ObjectMeta(name: "s", namespace: "n"), spec: StackSpec(environment: .production))
        stack.spec.alerting = AlertingSpec(thresholds: AlertThresholds(latencyP95Ms: 750, forDuration: "90s"))
        let latency = try #require(PrometheusRules.rules(StackContext(stack)).first { $0.alert == "HighLatencyP95" })
        #expect(latency.expr.hasSuffix("> 750") && latency.forSeconds == 90)
        #expect(PrometheusRules.rules(StackContext(stack)).allSatisfy { $0.expr.contains("namespace=\"n\"") })
    }

    // MARK: promtool test rules

    /// Expands the `{{ $labels.x }}` and `{{ if $labels.x }}a{{ else }}b{{ end }}` forms the
    /// annotations use, as Prometheus would for these labels.
    static func expand(_ template: String, _ labels: [String: String]) -> String {
        var out = template
        let conditional = try! NSRegularExpression(pattern: #"\{\{ if \$labels\.(\w+) \}\}(.*?)\{\{ else \}\}(.*?)\{\{ end \}\}"#)
        while let m = conditional.firstMatch(in: out, range: NSRange(out.startIndex..., in: out)) {
            let name = String(out[Range(m.range(at: 1), in: out)!])
            let chosen = (labels[name] ?? "").isEmpty ? String(out[Range(m.range(at: 3), in: out)!]) : String(out[Range(m.range(at: 2), in: out)!])
            out.replaceSubrange(Range(m.range, in: out)!, with: chosen)
        }
        let plain = try! NSRegularExpression(pattern: #"\{\{ \$labels\.(\w+) \}\}"#)
        while let m = plain.firstMatch(in: out, range: NSRange(out.startIndex..., in: out)) {
            let name = String(out[Range(m.range(at: 1), in: out)!])
            out.replaceSubrange(Range(m.range, in: out)!, with: labels[name] ?? "")
        }
        return out
    }

    /// One scenario: series, the alert, and the labels it fires with (nil: must not fire).
    struct Case {
        var name: String
        var alert: String
        var series: [(String, String)]
        var fires: [String: String]?
        var forSeconds: Int
    }

    static func number(_ d: Double) -> String {
        let r = (d * 1_000_000).rounded() / 1_000_000
        return r.rounded() == r ? String(Int(r)) : String(r)
    }

    /// Synthetic series with the real metric names, around each alert's threshold.
    static func cases(_ stack: ObservabilityStack) -> [Case] {
        let s = AlertSettings(StackContext(stack))
        let ns = stack.metadata.namespace ?? ""
        let M = MonitoringMetrics.self
        let base = "job=\"\(M.job)\",namespace=\"\(ns)\""
        let telemetry = "job=\"\(M.telemetryJob)\",namespace=\"\(ns)\""
        let n = s.forSeconds / 60 + 12
        let m = s.collectorDownForSeconds / 60 + 12
        func counter(_ perMinute: Double, _ count: Int) -> String { "0+\(number(perMinute))x\(count)" }
        func gauge(_ v: Double, _ count: Int) -> String { "\(number(v))x\(count)" }
        let t = Double(s.latencyP95Ms)
        func histogram(_ extra: String, low: Double, high: Double) -> [(String, String)] {
            // Every observation in (low, high]: the p95 is low + 0.95 (high - low).
            [
                ("\(M.spanDurationBucket){\(base),service_name=\"api\",span_kind=\"SPAN_KIND_SERVER\"\(extra),le=\"\(number(low))\"}", counter(0, n)),
                ("\(M.spanDurationBucket){\(base),service_name=\"api\",span_kind=\"SPAN_KIND_SERVER\"\(extra),le=\"\(number(high))\"}", counter(60, n)),
                ("\(M.spanDurationBucket){\(base),service_name=\"api\",span_kind=\"SPAN_KIND_SERVER\"\(extra),le=\"+Inf\"}", counter(60, n)),
            ]
        }
        // HTTP spans by the old semantic conventions (older SDKs), the current ones, or both.
        let http = ",http_method=\"GET\",http_route=\"/items\""
        let httpNew = ",http_request_method=\"GET\",http_route=\"/items\""
        let httpBoth = ",http_method=\"GET\",http_request_method=\"GET\",http_route=\"/items\""
        let r = s.errorRatio
        func calls(_ errorLabel: String, _ okLabel: String, errors: Double) -> [(String, String)] {
            [
                ("\(M.spanCalls){\(base),service_name=\"api\",span_kind=\"SPAN_KIND_SERVER\",\(errorLabel)}", counter(errors, n)),
                ("\(M.spanCalls){\(base),service_name=\"api\",span_kind=\"SPAN_KIND_SERVER\",\(okLabel)}", counter(1000 - errors, n)),
            ]
        }
        let fireErrors = min(1000, (r * 2000).rounded(.up) + 1)
        let belowErrors = (r * 1000 * 0.95).rounded(.down)
        let c = s.cpuUtilization, mem = s.memoryUtilization
        let cpuHigh = min(1, c + (1 - c) / 2), cpuLow = c * 0.98
        let memHigh = min(1, mem + (1 - mem) / 2), memLow = mem * 0.98
        let statusError = "status_code=\"STATUS_CODE_ERROR\"", statusOK = "status_code=\"STATUS_CODE_OK\""
        let httpError = "status_code=\"STATUS_CODE_ERROR\",http_status_code=\"500\"", httpOK = "status_code=\"STATUS_CODE_UNSET\",http_status_code=\"200\""
        let httpErrorNew = "status_code=\"STATUS_CODE_ERROR\",http_response_status_code=\"500\"", httpOKNew = "status_code=\"STATUS_CODE_UNSET\",http_response_status_code=\"200\""
        let httpErrorBoth = "status_code=\"STATUS_CODE_ERROR\",http_status_code=\"500\",http_response_status_code=\"500\""
        let httpOKBoth = "status_code=\"STATUS_CODE_UNSET\",http_status_code=\"200\",http_response_status_code=\"200\""
        var out: [Case] = [
            Case(name: "p95 above", alert: "HighLatencyP95", series: histogram("", low: t, high: 2 * t), fires: ["service_name": "api"], forSeconds: s.forSeconds),
            Case(name: "p95 just below", alert: "HighLatencyP95", series: histogram("", low: 0.9 * t, high: t), fires: nil, forSeconds: s.forSeconds),
            Case(name: "HTTP p95 above", alert: "HighLatencyP95_HTTP", series: histogram(http, low: t, high: 2 * t), fires: ["service_name": "api", "http_route": "/items"], forSeconds: s.forSeconds),
            Case(name: "HTTP p95 just below", alert: "HighLatencyP95_HTTP", series: histogram(http, low: 0.9 * t, high: t), fires: nil, forSeconds: s.forSeconds),
            Case(name: "HTTP p95 above, current names", alert: "HighLatencyP95_HTTP", series: histogram(httpNew, low: t, high: 2 * t), fires: ["service_name": "api", "http_route": "/items"], forSeconds: s.forSeconds),
            Case(name: "HTTP p95 just below, current names", alert: "HighLatencyP95_HTTP", series: histogram(httpNew, low: 0.9 * t, high: t), fires: nil, forSeconds: s.forSeconds),
            // A span with both names still counts.
            Case(name: "HTTP p95 just below, both names", alert: "HighLatencyP95_HTTP", series: histogram(httpBoth, low: 0.9 * t, high: t), fires: nil, forSeconds: s.forSeconds),
            Case(name: "errors above", alert: "HighErrorRate", series: calls(statusError, statusOK, errors: fireErrors), fires: ["service_name": "api"], forSeconds: s.forSeconds),
            Case(name: "HTTP 5xx above", alert: "HighErrorRate_HTTP", series: calls(httpError, httpOK, errors: fireErrors), fires: ["service_name": "api"], forSeconds: s.forSeconds),
            Case(name: "HTTP 5xx above, current names", alert: "HighErrorRate_HTTP", series: calls(httpErrorNew, httpOKNew, errors: fireErrors), fires: ["service_name": "api"], forSeconds: s.forSeconds),
            // Two SDK generations behind one service: their series are summed.
            Case(name: "HTTP 5xx above, mixed SDKs", alert: "HighErrorRate_HTTP", series: calls(httpErrorNew, httpOK, errors: fireErrors), fires: ["service_name": "api"], forSeconds: s.forSeconds),
            Case(
                name: "CPU above", alert: "HighCPUUtilization",
                series: [("\(M.cpuUtilization){\(base),host_name=\"node-1\",cpu=\"cpu0\",state=\"idle\"}", gauge(1 - cpuHigh, n))], fires: ["host_name": "node-1"], forSeconds: s.forSeconds
            ),
            Case(
                name: "CPU just below", alert: "HighCPUUtilization",
                series: [("\(M.cpuUtilization){\(base),host_name=\"node-1\",cpu=\"cpu0\",state=\"idle\"}", gauge(1 - cpuLow, n))], fires: nil, forSeconds: s.forSeconds
            ),
            Case(
                name: "CPU above, node-exporter only", alert: "HighCPUUtilization",
                series: [("\(M.nodeCPU){job=\"node\",instance=\"node-1:9100\",cpu=\"0\",mode=\"idle\"}", counter(60 * (1 - cpuHigh), n))], fires: ["instance": "node-1:9100"], forSeconds: s.forSeconds
            ),
            Case(
                // node-exporter says high, the collector says low: the collector wins.
                name: "CPU node-exporter ignored beside host metrics", alert: "HighCPUUtilization",
                series: [
                    ("\(M.nodeCPU){job=\"node\",instance=\"node-1:9100\",cpu=\"0\",mode=\"idle\"}", counter(60 * (1 - cpuHigh), n)),
                    ("\(M.cpuUtilization){\(base),host_name=\"node-1\",cpu=\"cpu0\",state=\"idle\"}", gauge(1 - cpuLow, n)),
                ],
                fires: nil, forSeconds: s.forSeconds
            ),
            Case(
                name: "memory above", alert: "HighMemoryUtilization",
                series: [("\(M.memoryUtilization){\(base),host_name=\"node-1\",state=\"used\"}", gauge(memHigh, n))], fires: ["host_name": "node-1"], forSeconds: s.forSeconds
            ),
            Case(
                name: "memory just below", alert: "HighMemoryUtilization",
                series: [("\(M.memoryUtilization){\(base),host_name=\"node-1\",state=\"used\"}", gauge(memLow, n))], fires: nil, forSeconds: s.forSeconds
            ),
            Case(
                name: "memory above, node-exporter only", alert: "HighMemoryUtilization",
                series: [
                    ("\(M.nodeMemoryAvailable){job=\"node\",instance=\"node-1:9100\"}", gauge(1000 * (1 - memHigh), n)),
                    ("\(M.nodeMemoryTotal){job=\"node\",instance=\"node-1:9100\"}", gauge(1000, n)),
                ],
                fires: ["instance": "node-1:9100", "job": "node"], forSeconds: s.forSeconds
            ),
            Case(
                name: "collector down", alert: "OtelCollectorDown",
                series: [("up{\(base),instance=\"10.0.0.1:8889\"}", gauge(0, m)), ("up{\(telemetry),instance=\"10.0.0.1:8888\"}", gauge(1, m))],
                fires: ["job": M.job, "namespace": ns, "instance": "10.0.0.1:8889"], forSeconds: s.collectorDownForSeconds
            ),
            Case(
                name: "collector up", alert: "OtelCollectorDown",
                series: [("up{\(base),instance=\"10.0.0.1:8889\"}", gauge(1, m)), ("up{\(telemetry),instance=\"10.0.0.1:8888\"}", gauge(1, m))],
                fires: nil, forSeconds: s.collectorDownForSeconds
            ),
            Case(
                name: "no collector scraped at all", alert: "OtelCollectorDown",
                series: [("up{job=\"other\",namespace=\"\(ns)\",instance=\"10.0.0.9:80\"}", gauge(1, m))],
                fires: ["job": M.job, "namespace": ns], forSeconds: s.collectorDownForSeconds
            ),
            Case(
                name: "failed sends", alert: "OtelExporterSendFailed",
                series: [("otelcol_exporter_send_failed_spans_total{\(telemetry),exporter=\"otlp/tempo\"}", counter(10, m))],
                fires: ["exporter": "otlp/tempo", "signal": "traces"], forSeconds: s.collectorDownForSeconds
            ),
            Case(
                name: "no failed sends", alert: "OtelExporterSendFailed",
                series: [("otelcol_exporter_send_failed_spans_total{\(telemetry),exporter=\"otlp/tempo\"}", counter(0, m))], fires: nil, forSeconds: s.collectorDownForSeconds
            ),
            Case(
                name: "enqueue failures", alert: "OtelExporterEnqueueFailed",
                series: [("otelcol_exporter_enqueue_failed_log_records_total{\(telemetry),exporter=\"otlphttp/loki\"}", counter(5, m))],
                fires: ["exporter": "otlphttp/loki", "signal": "logs"], forSeconds: s.collectorDownForSeconds
            ),
            Case(
                name: "no enqueue failures", alert: "OtelExporterEnqueueFailed",
                series: [("otelcol_exporter_enqueue_failed_log_records_total{\(telemetry),exporter=\"otlphttp/loki\"}", counter(0, m))], fires: nil, forSeconds: s.collectorDownForSeconds
            ),
        ]
        if belowErrors > 0 {
            out.append(Case(name: "errors just below", alert: "HighErrorRate", series: calls(statusError, statusOK, errors: belowErrors), fires: nil, forSeconds: s.forSeconds))
            out.append(Case(name: "HTTP 5xx just below", alert: "HighErrorRate_HTTP", series: calls(httpError, httpOK, errors: belowErrors), fires: nil, forSeconds: s.forSeconds))
            out.append(Case(name: "HTTP 5xx just below, current names", alert: "HighErrorRate_HTTP", series: calls(httpErrorNew, httpOKNew, errors: belowErrors), fires: nil, forSeconds: s.forSeconds))
            out.append(Case(name: "HTTP 5xx just below, both names", alert: "HighErrorRate_HTTP", series: calls(httpErrorBoth, httpOKBoth, errors: belowErrors), fires: nil, forSeconds: s.forSeconds))
        }
        return out
    }

    /// A promtool unit-test file: each case fires at its `for:` (plus the first rate
    /// sample), is still pending a minute before, and a case below threshold never fires.
    static func unitTests(_ stack: ObservabilityStack) -> String {
        let rules = Dictionary(uniqueKeysWithValues: PrometheusRules.rules(StackContext(stack)).map { ($0.alert, $0) })
        var tests: [JSONValue] = []
        for c in cases(stack) {
            let rule = rules[c.alert]!
            var checks: [JSONValue] = []
            let fireAt = prometheusDuration(c.forSeconds + 120)
            if let labels = c.fires {
                var all = labels
                all["severity"] = rule.severity
                all["environment"] = stack.spec.environment.rawValue
                all["stack"] = stack.metadata.name ?? ""
                all["namespace"] = stack.metadata.namespace ?? ""
                let annotations: JSONValue = [
                    "summary": .string(expand(rule.summary, all)), "description": .string(expand(rule.description, all)), "runbook": .string(expand(rule.runbook, all)),
                ]
                checks.append(["eval_time": .string(fireAt), "alertname": .string(c.alert), "exp_alerts": [["exp_labels": .object(all.jsonObject), "exp_annotations": annotations]]])
                if c.forSeconds >= 120 {
                    checks.append(["eval_time": .string(prometheusDuration(c.forSeconds - 60)), "alertname": .string(c.alert), "exp_alerts": []])
                }
            } else {
                checks.append(["eval_time": .string(fireAt), "alertname": .string(c.alert), "exp_alerts": []])
            }
            tests.append([
                "name": .string(c.name), "interval": "1m",
                "input_series": .array(c.series.map { ["series": .string($0.0), "values": .string($0.1)] }),
                "alert_rule_test": .array(checks),
            ])
        }
        return try! YAMLText.document(["rule_files": ["alerts.yml"], "evaluation_interval": "1m", "tests": .array(tests)])
    }

    @Test(arguments: environments)
    func eachAlertFiresAtItsForDurationAndNotJustBelowItsThreshold(_ env: String) async throws {
        let stack = try Self.example(env)
        let dir = try Self.files(stack)
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = Self.cases(stack)
        // Every alert is covered, firing and not firing.
        let alerts = Set(PrometheusRules.rules(StackContext(stack)).map(\.alert))
        #expect(Set(cases.filter { $0.fires != nil }.map(\.alert)) == alerts)
        #expect(Set(cases.filter { $0.fires == nil }.map(\.alert)) == alerts)
        let file = dir.appendingPathComponent("tests.yml")
        try Self.unitTests(stack).write(to: file, atomically: true, encoding: .utf8)
        let result = try await runTool(["promtool", "test", "rules", file.path])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("SUCCESS"), "\(result.output)")
    }

    /// The unit tests can fail: with a threshold ten times lower in the rules than in the
    /// tests, the "just below" cases fire.
    @Test func theUnitTestsCatchAWrongThreshold() async throws {
        let stack = try Self.example("production")
        var loose = stack
        loose.spec.alerting = AlertingSpec(thresholds: AlertThresholds(latencyP95Ms: 50, errorRatio: 0.002, cpuUtilization: 0.085, memoryUtilization: 0.09))
        let dir = try Self.files(loose)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("tests.yml")
        try Self.unitTests(stack).write(to: file, atomically: true, encoding: .utf8)
        let result = try await runTool(["promtool", "test", "rules", file.path])
        #expect(result.status != 0)
        for name in ["p95 just below", "errors just below", "CPU just below", "memory just below"] {
            #expect(result.output.contains(name), "\(name) should fail: \(result.output)")
        }
    }

    // MARK: Grafana

    /// Metric names in a PromQL expression: identifiers directly followed by `{`.
    static func metricNames(_ expr: String) -> Set<String> {
        let re = try! NSRegularExpression(pattern: #"([a-zA-Z_:][a-zA-Z0-9_:]*)\{"#)
        return Set(re.matches(in: expr, range: NSRange(expr.startIndex..., in: expr)).map { String(expr[Range($0.range(at: 1), in: expr)!]) })
    }

    /// What the rendered collector config makes Prometheus see: the spanmetrics connector's
    /// series (its namespace and unit as configured, defaults of 0.120.1 otherwise) and the
    /// host metrics it enables.
    static func pipelineMetrics(_ stack: ObservabilityStack) throws -> Set<String> {
        let config = CollectorConfig.agent(StackContext(stack))
        var out = Set<String>()
        if let spanmetrics = config["connectors"]?["spanmetrics"] {
            let namespace = (spanmetrics["namespace"]?.stringValue ?? "traces.span.metrics").replacingOccurrences(of: ".", with: "_")
            let unit = ["ms": "milliseconds", "s": "seconds"][spanmetrics["histogram"]?["unit"]?.stringValue ?? "ms"]!
            out.insert("\(namespace)_calls_total")
            for suffix in ["bucket", "sum", "count"] { out.insert("\(namespace)_duration_\(unit)_\(suffix)") }
        }
        for (scraper, metric) in [("cpu", "system.cpu.utilization"), ("memory", "system.memory.utilization")] {
            if config["receivers"]?["hostmetrics"]?["scrapers"]?[scraper]?["metrics"]?[metric]?["enabled"] == .bool(true) {
                out.insert(metric.replacingOccurrences(of: ".", with: "_") + "_ratio")
            }
        }
        return out
    }

    @Test(arguments: environments)
    func theDashboardIsValidJSONAndQueriesOnlyMetricsThatExist(_ env: String) throws {
        let stack = try Self.example(env)
        let json = try GrafanaRender.dashboard(StackContext(stack))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(dashboard["uid"] as? String == GrafanaRender.dashboardUID(StackContext(stack)))
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        #expect(Set(panels.compactMap { $0["title"] as? String }) == ["p95 latency", "Error rate", "Requests per second", "CPU utilization", "Memory utilization", "Logs"])
        let variables = try #require((dashboard["templating"] as? [String: Any])?["list"] as? [[String: Any]])
        #expect(variables.compactMap { $0["name"] as? String } == ["prometheus", "loki", "environment", "service"])
        let known = Set(PrometheusRules.rules(StackContext(stack)).flatMap { Self.metricNames($0.expr) }).union(try Self.pipelineMetrics(stack))
        #expect(known.contains(MonitoringMetrics.spanCalls) && known.contains(MonitoringMetrics.spanDurationBucket))
        var queried = Set<String>()
        for panel in panels where (panel["datasource"] as? [String: Any])?["uid"] as? String == "${prometheus}" {
            for target in panel["targets"] as? [[String: Any]] ?? [] {
                let expr = try #require(target["expr"] as? String)
                let names = Self.metricNames(expr)
                #expect(!names.isEmpty, "\(expr)")
                #expect(names.isSubset(of: known), "panel \(panel["title"] ?? "") queries \(names.subtracting(known))")
                #expect(expr.contains("$environment"), "panel \(panel["title"] ?? "") is not templated by environment")
                queried.formUnion(names)
            }
        }
        for variable in variables {
            let names = Self.metricNames(variable["definition"] as? String ?? "")
            #expect(names.isSubset(of: known))
        }
        #expect(queried == [MonitoringMetrics.spanCalls, MonitoringMetrics.spanDurationBucket, MonitoringMetrics.cpuUtilization, MonitoringMetrics.memoryUtilization])
        // And the check can fail: a name the pipeline does not produce is caught.
        #expect(!Self.metricNames("rate(traces_spanmetrics_calls_total{a=\"b\"}[5m])").isSubset(of: known))
    }

    /// The Grafana Operator: where asked for and served, a GrafanaDatasource per backend and
    /// a GrafanaDashboard replace the sidecar's ConfigMaps; the same datasources, unescaped
    /// (Grafana's API expands nothing), with the credentials referenced through valuesFrom.
    @Test func theGrafanaOperatorGetsItsObjectsWithTheCredentialsReferenced() throws {
        var stack = try Self.example("production")
        func keys(_ kinds: Set<String>) throws -> [String] {
            try DesiredState.render(StackContext(stack), inputs: RenderInputs(monitoringKinds: kinds, alertSecrets: Self.secrets)).objects.map(\.key)
        }
        let served: Set<String> = ["grafanadatasources", "grafanadashboards"]
        #expect(try keys(served).contains("configmaps/fba-prod/fba-bench-grafana-datasources"))
        stack.spec.grafana = GrafanaSpec(operator: GrafanaOperatorOutput(enabled: true, instanceLabels: ["dashboards": "grafana"]))
        #expect(try keys(["grafanadatasources"]).contains("configmaps/fba-prod/fba-bench-grafana-datasources"))
        let all = try keys(served)
        #expect(!all.contains { $0.hasPrefix("configmaps/fba-prod/fba-bench-grafana") })
        #expect(all.filter { $0.hasPrefix("grafanadatasources/") } == [
            "grafanadatasources/fba-prod/fba-bench-grafana-prometheus", "grafanadatasources/fba-prod/fba-bench-grafana-loki", "grafanadatasources/fba-prod/fba-bench-grafana-tempo",
        ])
        #expect(all.contains("grafanadashboards/fba-prod/fba-bench-grafana-overview"))
        let ctx = StackContext(stack)
        let objects = GrafanaOperatorRender.datasources(ctx)
        let loki = objects[1], tempo = objects[2]
        #expect(loki["spec"]?["instanceSelector"] == ["matchLabels": ["dashboards": "grafana"]])
        #expect(loki["spec"]?["uid"] == .string(GrafanaRender.uid(.loki, ctx)))
        #expect(loki["spec"]?["datasource"]?["basicAuthUser"] == "${username}")
        #expect(loki["spec"]?["datasource"]?["secureJsonData"]?["basicAuthPassword"] == "${password}")
        #expect(loki["spec"]?["datasource"]?["secureJsonData"]?["tlsCACert"] == "${ca.crt}")
        #expect(loki["spec"]?["valuesFrom"] == [
            ["targetPath": "basicAuthUser", "valueFrom": ["secretKeyRef": ["name": "loki-credentials", "key": "username"]]],
            ["targetPath": "secureJsonData.basicAuthPassword", "valueFrom": ["secretKeyRef": ["name": "loki-credentials", "key": "password"]]],
            ["targetPath": "secureJsonData.tlsCACert", "valueFrom": ["secretKeyRef": ["name": "loki-ca", "key": "ca.crt"]]],
        ])
        #expect(tempo["spec"]?["datasource"]?["secureJsonData"]?["httpHeaderValue1"] == "Bearer ${token}")
        // Not escaped: the API expands nothing.
        let toLogs = tempo["spec"]?["datasource"]?["jsonData"]?["tracesToLogsV2"]?["query"]
        #expect(toLogs == #"{${__tags}} | trace_id="${__trace.traceId}""#)
        #expect(objects[0]["spec"]?["valuesFrom"] == nil)
        let dashboard = try GrafanaOperatorRender.dashboard(ctx)
        #expect(dashboard["spec"]?["json"] == .string(try GrafanaRender.dashboard(ctx)))
        // Enabled needs the instances' labels.
        var unlabelled = stack
        unlabelled.spec.grafana = GrafanaSpec(operator: GrafanaOperatorOutput(enabled: true))
        #expect(StackValidator.validate(unlabelled).contains { $0.field == "spec.grafana.operator.instanceLabels" })
    }

    @Test func theDatasourcesLinkTracesLogsAndMetrics() throws {
        let stack = try Self.example("production")
        let text = try GrafanaRender.datasources(StackContext(stack))
        let doc = try #require(try Yams.load(yaml: text) as? [String: Any])
        let list = try #require(doc["datasources"] as? [[String: Any]])
        let ctx = StackContext(stack)
        let (prom, lokiUID, tempoUID) = (GrafanaRender.uid(.prometheus, ctx), GrafanaRender.uid(.loki, ctx), GrafanaRender.uid(.tempo, ctx))
        #expect(list.compactMap { $0["uid"] as? String } == [prom, lokiUID, tempoUID])
        let loki = list[1], tempo = list[2]
        #expect(loki["url"] as? String == "https://loki.example.com")
        #expect(tempo["url"] as? String == "https://tempo.example.com:3200")
        let fields = try #require((loki["jsonData"] as? [String: Any])?["derivedFields"] as? [[String: Any]])
        // OTLP logs: the trace id is structured metadata; text logs: in the line.
        #expect(fields.first?["matcherType"] as? String == "label" && fields.first?["matcherRegex"] as? String == "trace_id")
        let derived = try #require(fields.first { $0["matcherType"] as? String == "regex" })
        #expect(fields.allSatisfy { $0["datasourceUid"] as? String == tempoUID })
        // Grafana expands $VAR in provisioning files: its own variables are escaped.
        #expect(derived["url"] as? String == "$${__value.raw}")
        let regex = try NSRegularExpression(pattern: try #require(derived["matcherRegex"] as? String))
        let line = #"{"level":"info","msg":"done","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#
        let match = try #require(regex.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)))
        #expect(String(line[Range(match.range(at: 1), in: line)!]) == "4bf92f3577b34da6a3ce929d0e0e4736")
        // The backends' secrets come from Grafana's environment, named after the stack.
        let secure = try #require(tempo["secureJsonData"] as? [String: Any])
        #expect(secure["httpHeaderValue1"] as? String == "Bearer ${VIGIL_FBA_PROD__FBA_BENCH__TEMPO_TOKEN}")
        #expect(GrafanaRender.environment(ctx).map(\.name).contains("VIGIL_FBA_PROD__FBA_BENCH__TEMPO_TOKEN"))
        let tempoData = try #require(tempo["jsonData"] as? [String: Any])
        let toLogs = try #require(tempoData["tracesToLogsV2"] as? [String: Any])
        #expect(toLogs["datasourceUid"] as? String == lokiUID && toLogs["query"] as? String == #"{$${__tags}} | trace_id="$${__trace.traceId}""#)
        let metrics = try #require(tempoData["tracesToMetrics"] as? [String: Any])
        #expect(metrics["datasourceUid"] as? String == prom)
        let pipeline = try Self.pipelineMetrics(stack)
        for q in metrics["queries"] as? [[String: Any]] ?? [] {
            let query = try #require(q["query"] as? String)
            #expect(query.contains("$$__tags") && Self.metricNames(query.replacingOccurrences(of: "$$__tags", with: "a=\"b\"")).isSubset(of: pipeline))
        }
        // The sidecar's labels.
        let cm = try GrafanaRender.datasourcesConfigMap(StackContext(stack))
        #expect(cm["metadata"]?["labels"]?["grafana_datasource"] == "1")
        #expect(try GrafanaRender.dashboardConfigMap(StackContext(stack))["metadata"]?["labels"]?["grafana_dashboard"] == "1")
    }

    /// Grafana loads every sidecar file into one instance: uids and names must be unique,
    /// uids at most 40 characters, at most one default, and no secret written in.
    @Test func manyStacksProvisionOneGrafanaWithoutClashes() throws {
        let base = try Self.example("production")
        var stacks: [ObservabilityStack] = []
        for (ns, name) in [("team-a", "obs"), ("team-a", "obs-2"), ("team-b", "obs"), (String(repeating: "n", count: 63), String(repeating: "s", count: 63))] {
            var s = base
            s.metadata.namespace = ns
            s.metadata.name = name
            stacks.append(s)
        }
        var uids: [String] = [], names: [String] = [], defaults = 0
        var files: [String: String] = [:]
        for s in stacks {
            let cm = try GrafanaRender.datasourcesConfigMap(StackContext(s))
            for (file, value) in cm["data"]?.objectValue ?? [:] {
                #expect(files[file] == nil, "two stacks write the sidecar file \(file)")
                files[file] = value.stringValue
            }
            let doc = try #require(try Yams.load(yaml: try GrafanaRender.datasources(StackContext(s))) as? [String: Any])
            for ds in try #require(doc["datasources"] as? [[String: Any]]) {
                uids.append(try #require(ds["uid"] as? String))
                names.append(try #require(ds["name"] as? String))
                if ds["isDefault"] as? Bool == true { defaults += 1 }
            }
        }
        #expect(Set(uids).count == uids.count && Set(names).count == names.count, "\(uids) \(names)")
        #expect(uids.allSatisfy { $0.count <= 40 && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } })
        #expect(defaults == 0)
        // Asked for, one stack's Prometheus is the default.
        var chosen = stacks[0]
        chosen.spec.grafana = GrafanaSpec(defaultDatasource: true)
        let doc = try #require(try Yams.load(yaml: try GrafanaRender.datasources(StackContext(chosen))) as? [String: Any])
        #expect((doc["datasources"] as? [[String: Any]])?.filter { $0["isDefault"] as? Bool == true }.count == 1)
        // Secrets are referred to through Grafana's environment, never written: every `${`
        // that Grafana would expand names one of the variables the stack documents.
        for (_, text) in files {
            let unescaped = text.replacingOccurrences(of: "$$", with: "")
            var rest = Substring(unescaped)
            while let r = rest.range(of: "${") {
                let name = rest[r.upperBound...].prefix { $0 != "}" }
                #expect(name.hasPrefix("VIGIL_"), "Grafana would expand ${\(name)}")
                rest = rest[r.upperBound...]
            }
        }
    }

    // MARK: A real Prometheus

    @Test func aRealPrometheusLoadsTheRenderedConfigAndRules() async throws {
        let stack = try Self.example("production")
        let dir = try Self.files(stack)
        defer { try? FileManager.default.removeItem(at: dir) }
        // A free port: bind, read it, let go.
        var lastError = ""
        for attempt in 0..<5 {
            let port = Int.random(in: 20000...40000)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = [
                "prometheus", "--config.file=\(dir.appendingPathComponent("prometheus.yml").path)", "--storage.tsdb.path=\(dir.appendingPathComponent("data").path)",
                "--web.listen-address=127.0.0.1:\(port)",
            ]
            let log = dir.appendingPathComponent("prometheus-\(attempt).log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            p.standardOutput = handle
            p.standardError = handle
            try spawn(p)
            defer {
                p.terminate()
                p.waitUntilExit()
                try? handle.close()
            }
            var rules: [String: Any]? = nil
            for _ in 0..<100 where p.isRunning {
                try await Task.sleep(nanoseconds: 100_000_000)
                let r = try await runTool(["curl", "-sf", "http://127.0.0.1:\(port)/api/v1/rules"])
                if r.status == 0, let obj = try? JSONSerialization.jsonObject(with: Data(r.output.utf8)) as? [String: Any] {
                    rules = obj
                    break
                }
            }
            guard let rules else {
                lastError = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
                continue
            }
            #expect(rules["status"] as? String == "success")
            let groups = try #require((rules["data"] as? [String: Any])?["groups"] as? [[String: Any]])
            #expect(groups.compactMap { $0["name"] as? String } == [PrometheusRules.groupName(StackContext(stack))])
            let names = (groups.first?["rules"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
            #expect(names == PrometheusRules.rules(StackContext(stack)).map(\.alert))
            let durations = (groups.first?["rules"] as? [[String: Any]] ?? []).compactMap { $0["duration"] as? Int }
            #expect(durations == PrometheusRules.rules(StackContext(stack)).map(\.forSeconds))
            // Both scrape jobs are configured; their DNS names do not resolve here.
            let targets = try await runTool(["curl", "-sf", "http://127.0.0.1:\(port)/api/v1/targets?state=any"])
            #expect(targets.output.contains("\"scrapePool\":\"otel-collector\"") || targets.output.contains("\"activeTargets\":[]"), "\(targets.output)")
            let config = try await runTool(["curl", "-sf", "http://127.0.0.1:\(port)/api/v1/status/config"])
            #expect(config.output.contains("job_name: otel-collector-telemetry") && config.output.contains("alerts.yml"))
            return
        }
        Issue.record("Prometheus did not serve its rules: \(lastError.suffix(2000))")
    }
}

/// User values in Alertmanager's templated receiver fields reach it as text: the real
/// amtool renders each escaped value back to exactly the value given.
@Suite struct AlertmanagerTemplateTests {
    static let hostile = [
        "#ops-{{ .CommonLabels.alertname }}", "{{ template \"__subject\" . }}", "{{{", "a}}b{{", "{{- /* x */ -}}", "{{ (index .Alerts 0).Annotations }}",
        "plain #ops", "",
    ]

    @Test func amtoolRendersEachEscapedValueAsItWasGiven() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("am-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let glob = dir.appendingPathComponent("none.tmpl")
        try "{{ define \"unused\" }}{{ end }}".write(to: glob, atomically: true, encoding: .utf8)
        for value in Self.hostile where !value.isEmpty {
            let r = try await runTool(["amtool", "template", "render", "--template.glob", glob.path, "--template.text", AlertmanagerTemplates.escape(value)])
            #expect(r.status == 0 && r.output == value, "\(value) rendered as \(r.output)")
        }
        // Unescaped, the same values would run (or fail) as templates.
        let raw = try await runTool(["amtool", "template", "render", "--template.glob", glob.path, "--template.text", "{{ template \"__subject\" . }}"])
        #expect(raw.status != 0 || raw.output != "{{ template \"__subject\" . }}")
    }

    @Test func everyUserValueOfATemplatedFieldIsEscapedAndTheConfigLoads() async throws {
        var stack = try MonitoringTests.example("production")
        stack.spec.alerting?.receivers?.slack?.channel = "#ops-{{ .CommonLabels.alertname }}"
        stack.spec.alerting?.receivers?.email?.to = "{{ template \"__subject\" . }}@example.com"
        let secrets = AlertReceiverSecrets(slackWebhookURL: "https://hooks.slack.com/services/x", pagerDutyRoutingKey: "key-{{ .Status }}", smtpPassword: "p{{w")
        let text = try AlertmanagerConfig.render(StackContext(stack), secrets: secrets)
        #expect(text.contains(AlertmanagerTemplates.escape("#ops-{{ .CommonLabels.alertname }}")))
        #expect(text.contains("key-{{ \"{{\" }} .Status }}"))
        #expect(stack.spec.alerting?.receivers?.email != nil && text.contains("{{ \"{{\" }} template"), "\(text)")
        // Fields Alertmanager does not template keep the value as it is.
        #expect(text.contains("p{{w"))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("am-\(UUID().uuidString).yml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let check = try await runTool(["amtool", "check-config", file.path])
        #expect(check.status == 0, "\(check.output)")
    }
}
