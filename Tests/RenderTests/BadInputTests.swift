import Foundation
import KubeModel
import Render
import TestSupport
import Testing

/// Ten thousand malformed or hostile stacks (`HostileStacks`). Each goes through the decoder, the validator
/// and, when valid, the renderer and the config check. Nothing may crash, and every
/// refusal names a field.
@Suite struct BadInputTests {

    @Test func tenThousandHostileStacksNeverCrashAndEveryRefusalNamesAField() throws {
        let base = try StackFile.parse(HostileStacks.baseYAML)
        #expect(base.count == 1)
        #expect(StackValidator.validate(base[0], policy: HostileStacks.policy).isEmpty, "the base stack must be valid")
        var decodeRefused = 0
        var invalid = 0
        var rendered = 0
        for doc in try HostileStacks.documents() {
            let stack: ObservabilityStack
            do {
                stack = try JSONCoding.decode(ObservabilityStack.self, from: JSONCoding.encode(doc))
            } catch {
                // The API server's schema refuses these before Vigil sees them; the decoder
                // must still fail cleanly, with a message.
                #expect(!"\(error)".isEmpty)
                decodeRefused += 1
                continue
            }
            let errors = StackValidator.validate(stack, policy: HostileStacks.policy)
            if !errors.isEmpty {
                invalid += 1
                for e in errors {
                    #expect(e.field.hasPrefix("spec.") || e.field.hasPrefix("metadata."), "an error naming no field: \(e)")
                    #expect(!e.message.isEmpty)
                }
                continue
            }
            // Valid stacks render, and the config check answers either way; no rendered
            // config carries an expansion Vigil did not write.
            let ctx = StackContext(stack)
            let problems = ConfigCheck.check(ctx)
            #expect(!problems.contains { $0.contains("would expand") }, "\(problems)")
            _ = try DesiredState.render(ctx)
            // Only the environment variables Vigil names for the backends' secrets.
            let own = GrafanaRender.environment(ctx).map { "${\($0.name)}" }
            let found = Expansion.unescaped(try GrafanaRender.datasources(ctx))
            #expect(
                found.allSatisfy { f in
                    let token = f.firstIndex(of: "}").map { String(f[...$0]) } ?? f
                    return own.contains { $0.hasPrefix(token) }
                }, "\(found) \(own)")
            rendered += 1
        }
        #expect(decodeRefused + invalid + rendered == 10_000)
        // The mutations reach every stage.
        #expect(decodeRefused > 100 && invalid > 100 && rendered > 100, "decode \(decodeRefused), invalid \(invalid), rendered \(rendered)")
    }
}
