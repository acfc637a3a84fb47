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
        // Monitoring offline: the Prometheus ConfigMap (no Prometheus Operator known) and
        // Grafana's; the Alertmanager Secret needs the receivers' Secrets, so the operator makes it.
        expected += ["ConfigMap/fba-bench-prometheus", "ConfigMap/fba-bench-grafana-datasources", "ConfigMap/fba-bench-grafana-dashboards"]
        #expect(kinds == expected)
    }
}

@Suite struct ComponentFixtureTests {
    /// Every module Vigil's component table names is in the pinned distribution's manifest.
    @Test func everyComponentVigilUsesShipsInThePinnedImage() throws {
        let manifest = try String(contentsOf: repoRoot.appendingPathComponent("Tests/RenderTests/Fixtures/otelcol-contrib-0.120.1-manifest.yaml"), encoding: .utf8)
        let modules = Set(manifest.split(separator: "\n").compactMap { line -> String? in
            let t = line.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("- gomod: ") else { return nil }
            return t.dropFirst(9).split(separator: " ").first.map(String.init)
        })
        #expect(modules.count > 200)
        for c in Components.pinned {
            #expect(modules.contains(c.module), "\(c.kind.rawValue).\(c.type): \(c.module) is not in otelcol-contrib 0.120.1")
        }
        #expect(defaultCollectorImage == "otel/opentelemetry-collector-contrib:0.120.1")
    }

    /// Every component type that any rendered config uses is in the table (and so in the image).
    @Test(arguments: ["development", "staging", "production"])
    func everyComponentTheConfigsUseIsKnown(_ env: String) throws {
        let input = try String(contentsOf: repoRoot.appendingPathComponent("examples/\(env).yaml"), encoding: .utf8)
        let stack = try #require(try StackFile.parse(input).first)
        for config in [CollectorConfig.agent(StackContext(stack)), CollectorConfig.gateway(StackContext(stack))].compactMap({ $0 }) {
            for kind in ComponentInfo.Kind.allCases {
                for id in config[kind.rawValue]?.objectValue?.keys.sorted() ?? [] {
                    #expect(Components.lookup(kind, id: id) != nil, "\(kind.rawValue).\(id)")
                }
            }
        }
    }
}
