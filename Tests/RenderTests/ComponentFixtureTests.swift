import Foundation
import KubeModel
import Render
import TestSupport
import Testing

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
