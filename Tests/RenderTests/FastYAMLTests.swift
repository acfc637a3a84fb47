import Foundation
import KubeModel
import Render
import Testing
import Yams

/// The direct YAML writer gives Yams' bytes for every document the examples render.
@Suite struct FastYAMLTests {
    static func documents() throws -> [JSONValue] {
        var docs: [JSONValue] = []
        for env in ["development", "staging", "production"] {
            let text = try String(contentsOf: repoRoot.appendingPathComponent("examples/\(env).yaml"), encoding: .utf8)
            for stack in try StackFile.parse(text) {
                let secrets = AlertReceiverSecrets(slackWebhookURL: "https://hooks.slack.com/x", pagerDutyRoutingKey: "k'ey", smtpPassword: "p: #w")
                for kinds in [Set<String>(), ["prometheusrules", "servicemonitors"]] {
                    for object in try DesiredState.render(StackContext(stack), inputs: RenderInputs(monitoringKinds: kinds, alertSecrets: secrets)).objects {
                        docs.append(object.body)
                    }
                }
                docs.append(CollectorConfig.agent(StackContext(stack)))
                if let g = CollectorConfig.gateway(StackContext(stack)) { docs.append(g) }
                docs.append(["groups": PrometheusRules.groups(StackContext(stack))])
            }
        }
        let tricky = YAMLQuotingTests.tricky + ["{{ .Status }}", "a: b", "x #y", "-x", "- x", "?x", "? x", "key:", ":x", "it's", "a\"b", "---x", "...", "a\nb", "a\nb\n", " lead\nx", "trail \nx", "tab\tx", "é", "\n\nx", "x\n\n"]
        docs.append(.object(JSONObject(uniqueKeysWithValues: tricky.enumerated().map { ("k\($0.offset)", JSONValue.string($0.element)) })))
        docs.append(["list": .array(tricky.map { .string($0) }), "nested": [["a": [1, 2]], ["b": ["c": [:]]]], "empty": [], "m": [:], "d": 0.5, "n": .null])
        return docs
    }

    @Test func theDirectWriterMatchesYams() throws {
        let docs = try Self.documents()
        var direct = 0
        for doc in docs {
            let yams = try YAMLText.yamsDocument(doc)
            #expect(try YAMLText.document(doc) == yams)
            if YAMLText.writesDirectly(doc) { direct += 1 }
        }
        // Nearly every rendered document takes the direct path (the tricky ones may not).
        #expect(direct >= docs.count - 3, "\(direct) of \(docs.count) written directly")
    }

    /// Scalars are scanned eight bytes at a time for what only Yams may write (control
    /// characters, DEL, non-ASCII) and for the indicators `:` and `#`: each such byte, and
    /// the pairs that matter (`: `, ` #`), at every offset of strings of 1 to 20 bytes, as a
    /// key and as a value, give Yams' bytes.
    @Test func scalarsWithIndicatorsAtEveryOffset() throws {
        let specials = [":", "#", ": ", " #", "\t", "\u{01}", "\u{7F}", "é", "'", "-", "?", " "]
        for special in specials {
            for length in 1...20 {
                for at in 0..<length {
                    var chars = Array(repeating: "a", count: length)
                    chars[at] = special
                    let s = chars.joined()
                    let doc: JSONValue = ["k": .string(s), s: "v", "list": [.string(s)]]
                    #expect(try YAMLText.document(doc) == YAMLText.yamsDocument(doc), "\(s.debugDescription)")
                }
            }
        }
    }
}
