import Foundation
import KubeModel
import Render
import Testing
import Yams

/// `YAMLText.needsQuotes` is written out for speed; it must quote at least every plain
/// scalar Yams' resolver would read as something other than a string, and every YAML 1.1
/// boolean or null word (Kubernetes, Prometheus and the collector read YAML 1.1).
@Suite struct YAMLQuotingTests {
    static func resolverSaysNotAString(_ s: String) -> Bool {
        Resolver.default.resolveTag(of: Node(s)) != .str
    }

    static let tricky = [
        "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "~", "", "<<", "=", ".inf", "-.Inf", "+.INF", ".nan", ".NaN",
        "0", "12", "-3", "+4", "0755", "0x1f", "-0x1F", "+0b101", "0o17", "1_000", "1:20", "1:20:30", "1.5", ".5", "1.", "1e3", "1E-3", "-1.5e+3",
        "2026-11-26", "2026-1-2", "2026-11-26T02:00:00Z", "2026-11-26 02:00:00.5 +01:00",
        "5m", "10s", "0.0.0.0:8889", "1.2", "v1", "a:b", "hello world", "#channel", "@user", "*", "- x", "key: value", "1-2", "e3", "ee",
    ]

    @Test func everyScalarTheResolverTypesIsQuoted() throws {
        // The tricky cases, and every string in the rendered examples.
        var strings = Set(Self.tricky)
        func collect(_ v: JSONValue) {
            switch v {
            case .string(let s): strings.insert(s)
            case .array(let a): a.forEach(collect)
            case .object(let o): o.forEach { strings.insert($0.key); collect($0.value) }
            default: break
            }
        }
        for env in ["development", "staging", "production"] {
            let text = try String(contentsOf: repoRoot.appendingPathComponent("examples/\(env).yaml"), encoding: .utf8)
            for stack in try StackFile.parse(text) {
                for object in try DesiredState.render(StackContext(stack)).objects { collect(object.body) }
                collect(CollectorConfig.agent(StackContext(stack)))
            }
        }
        #expect(strings.count > 200)
        for s in strings.sorted() where !s.contains("\n") {
            if Self.resolverSaysNotAString(s) || ["y", "yes", "n", "no", "on", "off"].contains(s.lowercased()) {
                #expect(YAMLText.needsQuotes(s), "\(s) must be quoted")
            }
            // And what is written reads back as the same string.
            let yaml = try YAMLText.document(["k": .string(s)])
            let back = try Yams.load(yaml: yaml) as? [String: Any]
            #expect(back?["k"] as? String == s, "\(s) reads back as \(String(describing: back?["k"]))")
        }
    }
}
