import Foundation
import KubeModel
import Render
import TestSupport
import Testing

/// The rendered objects of each example, byte for byte. Regenerate with
/// `scripts/update-golden` and review the diff.
@Suite struct GoldenTests {
    static func diff(_ expected: String, _ actual: String) -> String { goldenDiff(expected, actual) }

    @Test(arguments: ["development", "staging", "production"])
    func theExampleRendersAsTheGoldenFile(_ env: String) throws {
        let input = try String(contentsOf: repoRoot.appendingPathComponent("examples/\(env).yaml"), encoding: .utf8)
        let golden = try String(contentsOf: repoRoot.appendingPathComponent("Tests/RenderTests/Golden/\(env).yaml"), encoding: .utf8)
        let rendered = try StackFile.render(input)
        #expect(rendered == golden, "golden file differs; run scripts/update-golden and review:\n\(Self.diff(golden, rendered))")
    }

    @Test func theDiffNamesTheChangedLine() {
        #expect(Self.diff("a\nb\nc", "a\nx\nc") == "line 2:\n  golden:   b\n  rendered: x")
    }

    @Test(arguments: ["development", "staging", "production"])
    func eachExampleYieldsItsWorkloads(_ env: String) throws {
        let input = try String(contentsOf: repoRoot.appendingPathComponent("examples/\(env).yaml"), encoding: .utf8)
        let stack = try #require(try StackFile.parse(input).first)
        let kinds = try DesiredState.render(StackContext(stack)).objects.map { "\($0.resource.kind)/\($0.name)" }
        var expected = ["ServiceAccount/fba-bench-collector", "ConfigMap/fba-bench-collector", "Service/fba-bench-collector", "Service/fba-bench-collector-headless", "DaemonSet/fba-bench-collector"]
        if env == "production" {
            expected += ["ConfigMap/fba-bench-gateway", "Service/fba-bench-gateway-headless", "Deployment/fba-bench-gateway"]
        }
        // Network policies: off in development, on in staging and production.
        if env != "development" { expected.append("NetworkPolicy/fba-bench-collector") }
        // With a gateway, its own policy: only the stack's agents may send to it.
        if env == "production" { expected.append("NetworkPolicy/fba-bench-gateway") }
        // Monitoring offline: the Prometheus ConfigMap (no Prometheus Operator known) and
        // Grafana's; the Alertmanager Secret needs the receivers' Secrets, so the operator makes it.
        expected += ["ConfigMap/fba-bench-prometheus", "ConfigMap/fba-bench-grafana-datasources", "ConfigMap/fba-bench-grafana-dashboards"]
        #expect(kinds == expected)
    }
}
