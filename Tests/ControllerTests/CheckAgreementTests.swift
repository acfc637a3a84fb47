import Foundation
import KubeModel
import Render
import TestSupport
import Testing

@testable import Controller

/// `vigil check` (the binary, as a CI pipeline runs it) and the reconciler's gate decide
/// alike on the ten thousand hostile stacks: the same accept or refuse, the same field
/// paths and messages. (A missing user Secret is the gate's alone: it is a fact of the
/// cluster, checked after the spec, which no offline check can know.)
@Suite struct CheckAgreementTests {
    static var binary: String {
        ProcessInfo.processInfo.environment["VIGIL_BINARY"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/vigil").path
    }

    @Test func vigilCheckAgreesWithTheGateOnTenThousandHostileStacks() async throws {
        let docs = try HostileStacks.documents()
        // One YAML stream of JSON documents (JSON is YAML).
        var text = ""
        for d in docs { text += "---\n" + String(decoding: try JSONCoding.encode(d), as: UTF8.self) + "\n" }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (status, output) = try await runTool([Self.binary, "check", "-f", path, "-o", "json", "--allowed-toleration-keys", "k"])
        #expect(status == 1, "some stacks are invalid: check must exit 1")
        let results = try #require(try JSONValue.parse(Array(output.utf8)).arrayValue, "not JSON: \(output.prefix(300))")
        var byDocument: [Int: JSONValue] = [:]
        for r in results { if let n = r["document"]?.intValue { byDocument[n] = r } }

        let gate = Gate(writer: FakeCluster(), policy: HostileStacks.policy)
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        var counts = (notStacks: 0, undecodable: 0, refusedSpec: 0, refusedConfig: 0, admitted: 0)
        var disagreements: [String] = []
        for (i, doc) in docs.enumerated() {
            let number = i + 1
            // Minutes of work on a two-thread pool that the integration suites share in CI:
            // let their waits and timers run between documents.
            if number % 20 == 0 { await Task.yield() }
            let checked = byDocument[number]
            guard doc["kind"]?.stringValue == ObservabilityStack.resource.kind else {
                // Not a stack: the API server routes it elsewhere, and check skips it.
                if checked != nil { disagreements.append("document \(number) is no stack, yet was checked") }
                counts.notStacks += 1
                continue
            }
            guard let r = checked else {
                disagreements.append("document \(number): no answer from vigil check")
                continue
            }
            let stack: ObservabilityStack
            do {
                var s = try JSONCoding.decode(ObservabilityStack.self, from: JSONCoding.encode(doc))
                if s.metadata.namespace == nil { s.metadata.namespace = "default" }
                stack = s
            } catch {
                // The API server's schema refuses it; check refuses it too.
                if r["allowed"] != false { disagreements.append("document \(number) does not decode, yet check allowed it") }
                counts.undecodable += 1
                continue
            }
            let errors = (r["errors"]?.arrayValue ?? []).map { "\($0["field"]?.stringValue ?? ""): \($0["message"]?.stringValue ?? "")" }
            let config = (r["configProblems"]?.arrayValue ?? []).compactMap(\.stringValue)
            switch try await gate.admit(stack, now: now) {
            case .failure(let rejected) where rejected.refusal.reason == "InvalidSpec":
                counts.refusedSpec += 1
                if errors.joined(separator: "; ") != rejected.refusal.message || r["allowed"] != false {
                    disagreements.append("document \(number): gate \(rejected.refusal.message.prefix(300)) / check \(errors.joined(separator: "; ").prefix(300))")
                }
            case .failure(let rejected) where rejected.refusal.reason == "ConfigCheckFailed":
                counts.refusedConfig += 1
                if !errors.isEmpty || config.joined(separator: "; ") != rejected.refusal.message || r["allowed"] != false {
                    disagreements.append("document \(number): gate \(rejected.refusal.message.prefix(300)) / check \(config.joined(separator: "; ").prefix(300))")
                }
            default:
                // Admitted by the spec (the gate may still wait for a user Secret).
                counts.admitted += 1
                if r["allowed"] != true { disagreements.append("document \(number): the gate passes the spec, check refuses: \(errors + config)") }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements: \(disagreements.prefix(5))")
        // Every kind of answer is exercised.
        #expect(counts.undecodable > 100 && counts.refusedSpec > 100 && counts.admitted > 100, "\(counts)")
        #expect(counts.notStacks + counts.undecodable + counts.refusedSpec + counts.refusedConfig + counts.admitted == 10_000)
    }
}
