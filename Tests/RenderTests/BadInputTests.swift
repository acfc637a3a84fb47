import Foundation
import KubeModel
import Render
import TestSupport
import Testing

/// Ten thousand malformed or hostile stacks, made by mutating a complete one with a fixed
/// seed: wrong types, huge strings, deep nesting, invalid CIDRs, impossible durations and
/// numbers, names at the 253-character limit. Each goes through the decoder, the validator
/// and, when valid, the renderer and the config check. Nothing may crash, and every
/// refusal names a field.
@Suite struct BadInputTests {

    /// The operator lets these stacks tolerate taint key `k` (the base stack's toleration).
    static let policy = OperatorPolicy(allowedTolerationKeys: ["k"])

    static let baseYAML = """
        apiVersion: observability.vigil.dev/v1alpha1
        kind: ObservabilityStack
        metadata: {name: fuzz, namespace: team}
        spec:
          environment: production
          collector:
            image: otel/opentelemetry-collector-contrib:0.120.1
            gateway: {replicas: 2}
            memoryLimiter: {limitMiB: 2048, spikeLimitMiB: 400}
            hostMetrics: {enabled: true, collectionInterval: 30s}
            fileLogs: {enabled: true, include: [/var/log/pods/team_*/*/*.log, /var/log/pods/apps_*/*/*.log]}
            resources: {limits: {cpu: "1"}, requests: {memory: 1Gi}}
            tolerations: [{key: k, operator: Equal, value: v, effect: NoSchedule}]
            nodeSelector: {kubernetes.io/os: linux}
          ingest:
            tls: {mode: SelfSigned, clientAuth: Optional, duration: 90d, renewBefore: 30d, keyAlgorithm: ECDSA, dnsNames: [otel.example.com], ipAddresses: [10.0.0.1]}
            basicAuth:
              clients: [{name: api, namespace: apps}, {name: worker, namespace: jobs}]
              rotation: {interval: 30d, overlap: 24h}
              bcryptCost: 10
          sampling: {percentage: 10, errors: true, latencyThresholdMs: 2000}
          exporters:
            loki: {endpoint: "https://loki.example.com/otlp", credentialsSecret: {name: loki-credentials}, caSecret: {name: loki-ca, key: ca.crt}}
            tempo: {endpoint: "tempo.example.com:4317", bearerTokenSecret: {name: tempo-token, key: token}}
            remoteWrite: {url: "https://mimir.example.com/api/v1/push", credentialsSecret: {name: rw}}
          networkPolicy:
            enabled: true
            ingestFrom: [{namespaceSelector: {matchLabels: {team: apps}}}, {ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
            metricsFrom: [{podSelector: {matchLabels: {app: prometheus}}}]
            egressTo: [10.20.0.0/16]
            nodeCIDRs: [10.0.0.0/8]
        """

    /// Every path to a value in a JSON document.
    static func paths(_ v: JSONValue, _ prefix: [String] = []) -> [[String]] {
        var out = [prefix]
        switch v {
        case .object(let o): for (k, x) in o { out += paths(x, prefix + [k]) }
        case .array(let a): for (i, x) in a.enumerated() { out += paths(x, prefix + [String(i)]) }
        default: break
        }
        return out
    }

    static func set(_ v: inout JSONValue, _ path: ArraySlice<String>, _ new: JSONValue) {
        guard let head = path.first else {
            v = new
            return
        }
        switch v {
        case .object(var o):
            var child = o[head] ?? .null
            set(&child, path.dropFirst(), new)
            o[head] = child
            v = .object(o)
        case .array(var a):
            guard let i = Int(head), a.indices.contains(i) else { return }
            set(&a[i], path.dropFirst(), new)
            v = .array(a)
        default:
            v = new
        }
    }

    static func hostile(_ rng: inout Seeded) -> JSONValue {
        func nested(_ depth: Int) -> JSONValue {
            var v: JSONValue = "leaf"
            for i in 0..<depth { v = i % 2 == 0 ? .array([v]) : .object(["k": v]) }
            return v
        }
        switch Int.random(in: 0..<17, using: &rng) {
        case 0: return .int(Int.random(in: Int.min...Int.max, using: &rng))
        case 1: return .double([1e308, -1e308, 0.000001, -0.0, 1e-300].randomElement(using: &rng)!)
        case 2: return .bool(Bool.random(using: &rng))
        case 3: return .null
        case 4: return .string(String(repeating: "x", count: Int.random(in: 10_000...200_000, using: &rng)))
        case 5: return nested(Int.random(in: 50...400, using: &rng))
        case 6: return .string(["10.0.0.0/33", "300.1.1.1/8", "10.0.0.0", "::/129", "abc", "10.0.0.0/-1", "", "1.2.3.4/08"].randomElement(using: &rng)!)
        case 7: return .string(["-1h", "0s", "1x", "", "99999999999999999999999999d", "1e9d", ".", "1.5.5h", "24h-1s", "9223372036854775807s"].randomElement(using: &rng)!)
        case 8: return .string(String(repeating: "a", count: 253))
        case 9: return .string(String(repeating: "a", count: 254))
        case 10: return .array([])
        case 11: return .object([:])
        case 12: return .string("\u{0}\u{FEFF}\u{202E}🙂\n--- !!python/object")
        case 13: return .int([0, -1, 1, 65536, Int(Int32.max) + 1, -2048].randomElement(using: &rng)!)
        case 14: return .string(["https://", "http://[::1", "ftp://x", "tempo:99999", "host:0", "${env:SECRET}"].randomElement(using: &rng)!)
        // Expansions for the collector and Grafana, and paths out of the pod log directory.
        case 15:
            return .string(
                [
                    "${env:SECRET}", "${file:/etc/shadow}", "${https://evil.example/x}", "$HOME", "a$b", "$$", "$${env:X}", "https://x/${env:GF_SECURITY_ADMIN_PASSWORD}",
                    "/var/log/pods/../../etc/*", "/hostfs/var/lib/kubelet/pods/*/volumes/*/*/token", "/var/log/pods/*/*/*.log", "/var/log/pods/prod_*/*/*.log",
                    "/var/log/pods/team_*/../../../etc/*", "/var/log/pods/team_${env:X}/*.log", "attacker/collector:latest", "Exists",
                ].randomElement(using: &rng)!)
        default: return .array([.string("x"), .int(1), .null])
        }
    }

    @Test func tenThousandHostileStacksNeverCrashAndEveryRefusalNamesAField() throws {
        let base = try StackFile.parse(Self.baseYAML)
        #expect(base.count == 1)
        let baseJSON = try JSONCoding.decode(JSONValue.self, from: JSONCoding.encode(base[0]))
        #expect(StackValidator.validate(base[0], policy: Self.policy).isEmpty, "the base stack must be valid")
        let paths = Self.paths(baseJSON).filter { !$0.isEmpty }
        var rng = Seeded(state: 20_261_125)
        var decodeRefused = 0
        var invalid = 0
        var rendered = 0
        for _ in 0..<10_000 {
            var doc = baseJSON
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                Self.set(&doc, paths.randomElement(using: &rng)![...], Self.hostile(&rng))
            }
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
            let errors = StackValidator.validate(stack, policy: Self.policy)
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
