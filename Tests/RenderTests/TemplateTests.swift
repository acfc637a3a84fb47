import Foundation
import KubeModel
@testable import Render
import Testing

/// Documents written once per shape with markers, then filled with each stack's strings
/// (`DashboardTemplate`, `RuleTemplate`, `AlertsFileTemplate`). These tests hold the filled
/// text to the text written directly for the same strings, byte for byte.
@Suite struct TemplateTests {
    /// Strings no stack name could hold, and some that look like the markers or escapes.
    static let hostile = [
        "", "a", "ns-1", "quote\"d", "back\\slash", "line\nbreak", "tab\tand\r\u{0}nul", "\u{1F}\u{7F}",
        "\u{E000}", "\u{E001}x\u{E006}", "\u{E007}", "é\u{301}", "日本語", "{{ $labels.x }}", "${env:SECRET}", "</script>", "\\u0000",
    ]

    static func shapes() -> [DashboardShape] {
        var out: [DashboardShape] = []
        for env in ["development", "staging", "production"] {
            for logs in [false, true] {
                out.append(DashboardShape(environment: env, settings: AlertSettings(latencyP95Ms: 500, errorRatio: 0.05, cpuUtilization: 0.8, memoryUtilization: 0.85, forSeconds: 300, collectorDownForSeconds: 120), logs: logs))
            }
        }
        out.append(DashboardShape(environment: "production", settings: AlertSettings(latencyP95Ms: 1, errorRatio: 1e-9, cpuUtilization: 0.333, memoryUtilization: -0.0, forSeconds: 1, collectorDownForSeconds: 1), logs: true))
        return out
    }

    @Test func theFilledTemplateIsTheDashboardWrittenDirectlyForHostileStrings() throws {
        var generator = SystemRandomNumberGenerator()
        for shape in Self.shapes() {
            let template = DashboardTemplate(shape)
            #expect(template.slots.count >= 6, "markers found: \(template.slots)")
            for _ in 0..<60 {
                var s: [String] = []
                for _ in 0..<DashboardStrings.count { s.append(Self.hostile.randomElement(using: &generator)! + Self.hostile.randomElement(using: &generator)!) }
                let strings = DashboardStrings(namespace: s[0], name: s[1], uid: s[2], prometheusName: s[3], prometheusUID: s[4], lokiName: s[5], lokiUID: s[6])
                let direct = Array(GrafanaRender.dashboardDocument(shape, strings).utf8)
                let filled = Array(template.filled(strings).utf8)
                guard filled != direct else { continue }
                // The first difference, with some text around it, and no more cases.
                let at = (0..<min(filled.count, direct.count)).first { filled[$0] != direct[$0] } ?? min(filled.count, direct.count)
                func around(_ b: [UInt8]) -> String { String(decoding: b[max(0, at - 60)..<min(b.count, at + 60)], as: UTF8.self) }
                Issue.record("filled and direct dashboards differ at byte \(at) for \(s): filled …\(around(filled))… direct …\(around(direct))…")
                return
            }
        }
    }

    @Test func everyStringOfTheStackReachesTheDashboard() throws {
        let strings = DashboardStrings(namespace: "n", name: "s", uid: "U", prometheusName: "PN", prometheusUID: "PU", lokiName: "LN", lokiUID: "LU")
        let shape = Self.shapes()[1]
        let json = try #require(try JSONSerialization.jsonObject(with: Data(DashboardTemplate(shape).filled(strings).utf8)) as? [String: Any])
        #expect(json["uid"] as? String == "U")
        #expect(json["title"] as? String == "Vigil overview: s (development)")
        let variables = try #require((json["templating"] as? [String: Any])?["list"] as? [[String: Any]])
        let current = variables.compactMap { $0["current"] as? [String: Any] }
        #expect(current.contains { $0["text"] as? String == "PN" && $0["value"] as? String == "PU" })
        #expect(current.contains { $0["text"] as? String == "LN" && $0["value"] as? String == "LU" })
        let text = DashboardTemplate(shape).filled(strings)
        #expect(text.contains("namespace=\\\"n\\\""))
        #expect(!text.unicodeScalars.contains { (0xE000...0xE006).contains($0.value) })
    }

    /// Each stack of the examples gets the dashboard written for it, whatever template the
    /// table held before: shapes that differ only in a threshold's sign or logs give
    /// different text.
    @Test func stacksOfDifferentShapesDoNotShareATemplate() throws {
        let shapes = Self.shapes()
        let strings = DashboardStrings(namespace: "n", name: "s", uid: "U", prometheusName: "PN", prometheusUID: "PU", lokiName: "LN", lokiUID: "LU")
        for shape in shapes {
            #expect(DashboardTemplate.shared(shape).filled(strings) == GrafanaRender.dashboardDocument(shape, strings))
        }
        var zero = shapes[shapes.count - 1]
        zero.settings.memoryUtilization = 0.0
        #expect(zero != shapes[shapes.count - 1])
        #expect(DashboardTemplate.shared(zero).filled(strings) == GrafanaRender.dashboardDocument(zero, strings))
        #expect(GrafanaRender.dashboardDocument(zero, strings) != GrafanaRender.dashboardDocument(shapes[shapes.count - 1], strings))
    }

    @Test func theTableOfTemplatesStaysBounded() {
        for latency in 1...(DashboardTemplate.table.limit * 2 + 3) {
            let shape = DashboardShape(environment: "staging", settings: AlertSettings(latencyP95Ms: latency, errorRatio: 0.1, cpuUtilization: 0.5, memoryUtilization: 0.5, forSeconds: 60, collectorDownForSeconds: 60), logs: false)
            _ = DashboardTemplate.shared(shape)
        }
        #expect(DashboardTemplate.table.count <= DashboardTemplate.table.limit)
    }

    /// The alert rules, cut the same way, filled by concatenation.
    @Test func theFilledRulesAreTheRulesWrittenDirectlyForHostileStrings() throws {
        var generator = SystemRandomNumberGenerator()
        for shape in Self.shapes() {
            let environment = try #require(Environment(rawValue: shape.environment))
            let ruleShape = RuleShape(environment: environment, settings: shape.settings)
            let template = RuleTemplate(ruleShape)
            #expect(template.texts.contains { !$0.expr.slots.isEmpty } && template.texts.contains { !$0.runbook.slots.isEmpty })
            for _ in 0..<40 {
                let namespace = Self.hostile.randomElement(using: &generator)! + Self.hostile.randomElement(using: &generator)!
                let name = Self.hostile.randomElement(using: &generator)! + Self.hostile.randomElement(using: &generator)!
                let direct = PrometheusRules.rules(environment: environment, settings: shape.settings, namespace: namespace, name: name)
                let filled = template.filled(namespace: namespace, name: name)
                #expect(filled == direct, "namespace \(namespace.debugDescription), name \(name.debugDescription)")
                if filled != direct { return }
            }
        }
        // Through the table, for a stack: the namespace and name reach the rules.
        let stack = try #require(try StackFile.parse("""
            apiVersion: observability.vigil.dev/v1alpha1
            kind: ObservabilityStack
            metadata: {name: shop, namespace: team-a}
            spec: {environment: staging}
            """).first)
        let rules = PrometheusRules.rules(StackContext(stack))
        #expect(rules.allSatisfy { $0.expr.contains("namespace=\"team-a\"") })
        #expect(rules.contains { $0.summary.contains("stack shop ") })
        #expect(!rules.contains { r in [r.expr, r.summary, r.description, r.runbook].contains { $0.unicodeScalars.contains { (0xE000...0xE001).contains($0.value) } } })
    }

    /// Kubernetes names, with the ones a YAML reader takes for something else.
    static let names = [
        "a", "shop", "team-a", "a.b", "x-1.y", "1", "123", "0", "01", "1e3", "1.5", ".5", "0x1f", "0o7", "true", "false", "yes", "no", "y", "n",
        "on", "off", "null", "nan", ".inf", ".nan", "-1", "1-2", "-", ".", "...", "---", "zzvigilmark0zz",
    ]

    @Test func theFilledAlertsFileIsTheFileWrittenDirectlyForKubernetesNames() throws {
        var generator = SystemRandomNumberGenerator()
        for shape in Self.shapes() {
            let environment = try #require(Environment(rawValue: shape.environment))
            let ruleShape = RuleShape(environment: environment, settings: shape.settings)
            let template = try #require(AlertsFileTemplate(ruleShape))
            #expect(Set(template.slots) == [0, 1, 2, 3], "markers found: \(template.slots)")
            var pairs = Self.names.map { ($0, $0) }
            for _ in 0..<60 { pairs.append((Self.names.randomElement(using: &generator)!, Self.names.randomElement(using: &generator)!)) }
            for (namespace, name) in pairs {
                let rules = PrometheusRules.rules(environment: environment, settings: shape.settings, namespace: namespace, name: name)
                let groups = PrometheusRules.groups(environment: environment.rawValue, rules: rules, namespace: namespace, name: name, namespaceLabel: namespace, nameLabel: name)
                let direct = try YAMLText.document(["groups": groups])
                let filled = template.filled(namespace: namespace, name: name)
                #expect(filled == direct, "namespace \(namespace), name \(name)")
                if filled != direct { return }
            }
        }
    }

    @Test func theAlertsFileTemplateRefusesWhatIsNotAName() throws {
        let template = try #require(AlertsFileTemplate(RuleShape(environment: .production, settings: Self.shapes()[5].settings)))
        for bad in Self.hostile + ["A", "a b", "a:b", "a#b", "a'b", "a_b", "é"] where !AlertsFileTemplate.isName(bad) || bad.isEmpty {
            #expect(template.filled(namespace: bad, name: "ok") == nil)
            #expect(template.filled(namespace: "ok", name: bad) == nil)
        }
        // A stack file read offline may name anything: its file is written out, and is the
        // file for those strings.
        let stack = try #require(try StackFile.parse("""
            apiVersion: observability.vigil.dev/v1alpha1
            kind: ObservabilityStack
            metadata: {name: "Shop: 1", namespace: team-a}
            spec: {environment: staging}
            """).first)
        let ctx = StackContext(stack)
        #expect(try PrometheusRules.alertsFile(ctx) == (try YAMLText.document(["groups": PrometheusRules.groups(ctx)])))
        #expect(try PrometheusRules.alertsFile(ctx).contains("'Shop: 1'"))
    }
}

