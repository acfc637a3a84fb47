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
        let ns = try #require(stack.metadata.namespace)
        // The agents' RoleBinding (k8sattributes, on by default) follows their ServiceAccount.
        var expected = ["ServiceAccount/fba-bench-collector", "RoleBinding/\(ns).fba-bench-collector", "ConfigMap/fba-bench-collector", "Service/fba-bench-collector", "Service/fba-bench-collector-headless", "DaemonSet/fba-bench-collector"]
        // Staging runs like production: a gateway, where tail sampling sees whole traces.
        if env != "development" {
            expected += ["ConfigMap/fba-bench-gateway", "Service/fba-bench-gateway-headless", "Deployment/fba-bench-gateway"]
        }
        // Network policies: off in development, on in staging and production.
        if env != "development" { expected.append("NetworkPolicy/fba-bench-collector") }
        // With a gateway, its own policy: only the stack's agents may send to it.
        if env != "development" { expected.append("NetworkPolicy/fba-bench-gateway") }
        // Monitoring offline: the Prometheus ConfigMap (no Prometheus Operator known) and
        // Grafana's; the Alertmanager Secret needs the receivers' Secrets, so the operator makes it.
        expected += ["ConfigMap/fba-bench-prometheus", "ConfigMap/fba-bench-grafana-datasources", "ConfigMap/fba-bench-grafana-dashboards"]
        #expect(kinds == expected)
        // Tail sampling runs only where whole traces arrive: the gateway, when there is one.
        let ctx = StackContext(stack)
        let agentPipelines = CollectorConfig.agent(ctx)["service"]?["pipelines"]
        let agentSamples = agentPipelines?["traces"]?["processors"]?.arrayValue?.contains("tail_sampling") == true
        if let gateway = CollectorConfig.gateway(ctx) {
            #expect(!agentSamples, "\(env): the agents sample partial traces")
            #expect(gateway["service"]?["pipelines"]?["traces"]?["processors"]?.arrayValue?.contains("tail_sampling") == true)
        }
    }
}
