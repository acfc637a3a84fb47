import ArgumentParser
import Controller
import Foundation
import KubeModel
import Render
import Rotation

/// `vigil-bench`: Vigil's benchmarks, an executable of its own so that none of it ships in
/// the operator. It drives the operator binary (`cluster`) and its libraries (`render`,
/// `rotation`) through their public interfaces.
@main
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-bench", abstract: "Benchmarks (see BENCHMARKS.md).", subcommands: [RotationBench.self, RenderBench.self, ClusterBench.self, BcryptBench.self]
    )
}

/// `vigil-bench rotation`: the cost of the cryptography on the reconcile path, measured in
/// process (no API server): issuing one serving leaf, hashing one credential, and renewing
/// the leaves of many stacks as the certificate reconciler does at their renewal time.
struct RotationBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rotation", abstract: "Time leaf issuance, bcrypt, and renewing many stacks' leaves.")

    @Option(help: "Stacks whose leaves are renewed in one pass.")
    var stacks: Int = 500

    @Option(help: "Repetitions of each measurement; the median and spread are reported.")
    var runs: Int = 5

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = ContinuousClock.now
        try body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    struct Stat: Codable {
        var median: Double
        var min: Double
        var max: Double
        init(_ xs: [Double]) {
            let s = xs.sorted()
            median = s.isEmpty ? 0 : (s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2)
            min = s.first ?? 0
            max = s.last ?? 0
        }
        func ms(_ scale: Double = 1000) -> String { String(format: "%.2f ms (min %.2f, max %.2f)", median * scale, min * scale, max * scale) }
    }

    func run() async throws {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let ca = try PKI.issueCA(commonName: "bench CA", now: t0, duration: 365 * 86400)
        func leaf(_ algorithm: KeyAlgorithm) throws {
            _ = try PKI.issueLeaf(
                ca: ca, commonName: "obs-collector", dnsNames: ["obs-collector", "obs-collector.team.svc"], ipAddresses: [], usage: .server, now: t0,
                duration: 90 * 86400, algorithm: algorithm
            )
        }
        // Warm up once, then time each operation alone.
        try leaf(.ecdsaP256)
        var ecdsa: [Double] = []
        for _ in 0..<max(20, runs * 10) { ecdsa.append(try seconds { try leaf(.ecdsaP256) }) }
        var rsa: [Double] = []
        for _ in 0..<max(3, runs) { rsa.append(try seconds { try leaf(.rsa(bits: 2048)) }) }
        var bcrypt: [Double] = []
        let cost = ResolvedSpec(StackSpec(environment: .production)).bcryptCost
        for _ in 0..<max(5, runs * 2) { bcrypt.append(try seconds { _ = try Htpasswd.bcrypt(Htpasswd.password(), cost: cost) }) }

        // N stacks, each with its CA and leaf, then all renewed at once: the certificate
        // manager's own path (state from the cached Secrets, plan, issue, new Secrets).
        var renewals: [Double] = []
        for _ in 0..<max(1, runs) {
            let secrets = Store<Unstructured>()
            var all: [ObservabilityStack] = []
            for i in 0..<stacks {
                var s = ObservabilityStack(metadata: ObjectMeta(name: "s\(i)", namespace: "ns\(i % 50)"), spec: StackSpec(environment: .production))
                s.metadata.uid = "uid-\(i)"
                all.append(s)
                let ctx = StackContext(s)
                for o in try CertificateReconciler(secrets: secrets).reconcile(ctx, now: t0).objects(ctx) {
                    secrets.upsert(try Unstructured(object: o.body))
                }
            }
            let later = t0.addingTimeInterval(61 * 86400)
            renewals.append(try seconds {
                for s in all {
                    let outcome = try CertificateReconciler(secrets: secrets).reconcile(StackContext(s), now: later)
                    guard outcome.event != nil else { throw ValidationError("stack \(s.metadata.name ?? "") was not renewed") }
                }
            })
        }
        let results: [String: Stat] = [
            "leaf_ecdsa_p256_seconds": Stat(ecdsa), "leaf_rsa_2048_seconds": Stat(rsa), "bcrypt_default_cost_seconds": Stat(bcrypt), "bcrypt_default_cost": Stat([Double(cost)]),
            "renew_\(stacks)_stacks_seconds": Stat(renewals),
        ]
        print("one serving leaf, ECDSA P-256:  \(Stat(ecdsa).ms())")
        print("one serving leaf, RSA 2048:     \(Stat(rsa).ms())")
        print("one bcrypt hash, cost \(cost):        \(Stat(bcrypt).ms())")
        print("renew \(stacks) stacks' leaves:      \(Stat(renewals).ms()) = \(String(format: "%.0f", Double(stacks) / Stat(renewals).median)) stacks/s")
        if let json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            try enc.encode(results).write(to: URL(fileURLWithPath: json))
        }
    }
}

/// `vigil-bench render`: P5, rendering every object of one production stack (collector
/// config and workloads, NetworkPolicy, Prometheus, Alertmanager and Grafana objects, each
/// hashed as for applying), in this process on one core; no key generation, no bcrypt.
struct RenderBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Render production stacks in a loop; report stacks per second.")

    @Option(help: "Stacks rendered per run.")
    var stacks: Int = 2000

    @Option(help: "Runs; the median and spread are reported.")
    var runs: Int = 5

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    /// The production example's spec (gateway, mTLS, BasicAuth client, every backend,
    /// alerting receivers), in `count` namespaces and names.
    static func stacks(_ count: Int) throws -> [ObservabilityStack] {
        let text = try String(contentsOfFile: "examples/production.yaml", encoding: .utf8)
        guard let base = try StackFile.parse(text).first else { throw ValidationError("examples/production.yaml has no stack") }
        return (0..<count).map { i in
            var s = base
            s.metadata.name = "stack-\(i)"
            s.metadata.namespace = "bench-\(i % 50)"
            s.metadata.uid = "uid-\(i)"
            return s
        }
    }

    func run() async throws {
        let all = try Self.stacks(stacks)
        let inputs = RenderInputs(
            mountedMaterialHash: String(repeating: "a", count: 64), htpasswdHash: String(repeating: "b", count: 64),
            nodeAddresses: ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
            alertSecrets: AlertReceiverSecrets(slackWebhookURL: "https://hooks.slack.com/services/x", pagerDutyRoutingKey: "k", smtpPassword: "p")
        )
        // Warm up, and count what one stack becomes (objects, and their bytes as JSON).
        let one = try DesiredState.render(StackContext(all[0]), inputs: inputs).objects
        let objects = one.count
        let bytes = one.reduce(0) { $0 + $1.body.serialized().count }
        var rates: [Double] = []
        for _ in 0..<max(1, runs) {
            let start = ContinuousClock.now
            for s in all { _ = try DesiredState.render(StackContext(s), inputs: inputs) }
            let d = ContinuousClock.now - start
            rates.append(Double(all.count) / (Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18))
        }
        let stat = RotationBench.Stat(rates)
        print(String(format: "render one production stack (%d objects, %d bytes of JSON): %.0f stacks/s (min %.0f, max %.0f) over %d runs of %d", objects, bytes, stat.median, stat.min, stat.max, runs, stacks))
        if let json {
            let enc = JSONEncoder()
            enc.outputFormatting = [.prettyPrinted, .sortedKeys]
            struct Out: Encodable { var stacks_per_second: RotationBench.Stat; var objects: Int; var bytes: Int }
            try enc.encode(Out(stacks_per_second: stat, objects: objects, bytes: bytes)).write(to: URL(fileURLWithPath: json))
        }
    }
}

/// `vigil-bench bcrypt`: what a bcrypt cost costs on both sides. Vigil hashes each client's
/// password once per generation; the collector's basicauth extension verifies the hash on
/// every request, with no cache, and a verification costs one hash at the same cost. So the
/// time of one hash at each cost is Vigil's price per credential and the collector's price
/// per export request.
struct BcryptBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bcrypt", abstract: "Time one bcrypt hash and one verification at each cost.")

    @Option(help: "Lowest cost measured.")
    var from: Int = 4

    @Option(help: "Highest cost measured.")
    var to: Int = 12

    @Option(help: "Write the results as JSON to this file.")
    var json: String?

    func run() async throws {
        var rows: [[String: Double]] = []
        print("cost  hash (median)  verify (median)  verifications/s on one core")
        for cost in from...to {
            let password = Htpasswd.password()
            var hashes: [Double] = []
            var verifies: [Double] = []
            // At least 5 of each, and at least half a second of each.
            var spent = 0.0
            var hash = ""
            while hashes.count < 5 || spent < 0.5 {
                let t = try RotationBench().seconds { hash = try Htpasswd.bcrypt(password, cost: cost) }
                hashes.append(t)
                spent += t
            }
            spent = 0
            while verifies.count < 5 || spent < 0.5 {
                var ok = false
                let t = RotationBench().seconds { ok = Htpasswd.verify(password, hash: hash) }
                guard ok else { throw ValidationError("bcrypt verification failed at cost \(cost)") }
                verifies.append(t)
                spent += t
            }
            let h = RotationBench.Stat(hashes).median, v = RotationBench.Stat(verifies).median
            rows.append(["cost": Double(cost), "hash_ms": h * 1000, "verify_ms": v * 1000])
            print(String(format: "%4d  %10.2f ms  %12.2f ms  %12.0f", cost, h * 1000, v * 1000, 1 / v))
        }
        if let json {
            try JSONSerialization.data(withJSONObject: ["bcrypt": rows], options: [.prettyPrinted, .sortedKeys]).write(to: URL(fileURLWithPath: json))
        }
    }
}
