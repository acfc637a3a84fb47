import Controller
import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

/// Two years of one stack with mTLS and BasicAuth, and apps that read their client Secret
/// once, at start, as SDKs do: credentials rotate every 30 days, certificates live 30 days,
/// the CA rolls over once a year. Apps restart at random times, and when Vigil names their
/// pod, after a random delay; one stubborn app never restarts unless it is refused. At
/// every moment, every app's credential must be in the file the collector serves with the
/// password it holds, the served certificate must chain to the bundle it holds, and its
/// client certificate to the bundle the collector checks; the only exception is an app
/// that `rotation.maxOverlap` forced out, and then it was named in status before.
@Suite struct ConsumerSimulationTests {
    /// Quiet: two years of steps would log thousands of lines.
    let logger: Logger = {
        var l = Logger(label: "test")
        l.logLevel = .error
        return l
    }()


    /// An app process: what its client Secret said when it started.
    struct App {
        var name: String
        var pod: String
        var started: Date
        var user: String
        var password: String
        var bundle: [String]
        var certificate: String
        /// When it restarts next (random, or because Vigil named it).
        var restartAt: Date
        var stubborn: Bool
        /// When Vigil first named this pod.
        var namedAt: Date? = nil
    }

    final class Pods: Sendable {
        let list = Mutex<[PodSecretUse]>([])
    }

    @Test func twoYearsOfRotationsNeverRefuseAnAppThatWasNotNamedFirst() async throws {
        let fake = FakeCluster()
        let clock = ManualClock()
        let pods = Pods()
        let stacks = Store<ObservabilityStack>()
        let r = fake.reconciler(stacks: stacks, clock: clock, logger: logger) { pods.list.withLock { $0 } }
        var spec = StackSpec(environment: .staging)
        spec.ingest = IngestSpec(
            tls: TLSSpec(clientAuth: "Required", duration: "30d"),
            basicAuth: BasicAuthSpec(
                clients: [ClientRef(name: "api", namespace: "apps")], rotation: RotationSpec(interval: "30d", overlap: "1h", maxOverlap: "3d")))
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        s.metadata.uid = "uid-1"
        s.metadata.generation = 1
        s.metadata.resourceVersion = "1"
        stacks.upsert(s)
        let secretName = "team.obs-otlp-client"
        let day = 86400.0
        var rng = Seeded(state: 18)
        func object(_ key: String) -> Unstructured? { fake.objects.withLock { $0[key] } }

        for _ in 0..<3 { _ = try await r.reconcile("team/obs") }
        var podCount = 0
        func start(_ name: String, stubborn: Bool) throws -> App {
            let secret = try #require(object("secrets/apps/\(secretName)"))
            let credential = try #require(ClientSecret.credential(fromHeaders: secret.secretString("OTEL_EXPORTER_OTLP_HEADERS") ?? ""))
            podCount += 1
            let now = clock.wallNow
            let mean = stubborn ? 400 * day : 20 * day
            return App(
                name: name, pod: "\(name)-\(podCount)", started: now, user: credential.user, password: credential.password,
                bundle: PKI.certificates(inBundle: secret.secretString("ca.crt") ?? ""), certificate: secret.secretString("tls.crt") ?? "",
                restartAt: now.addingTimeInterval(Double.random(in: 0.1...2, using: &rng) * mean), stubborn: stubborn
            )
        }
        func publishPods(_ apps: [App]) {
            pods.list.withLock { $0 = apps.map { PodSecretUse(namespace: "apps", name: $0.pod, startTime: $0.started.formatted(.iso8601), secrets: [secretName]) } }
        }
        // Pods start in a later second than what they follow, as the kubelet's whole seconds require.
        clock.advance(by: 2)
        var apps = [try start("web", stubborn: false), try start("worker", stubborn: false), try start("batch", stubborn: true)]
        publishPods(apps)

        /// Why the collector would refuse an app now, or nil.
        func refusal(_ app: App) async -> String? {
            let now = clock.wallNow
            let file = object("secrets/team/obs-htpasswd")?.secretString("htpasswd") ?? ""
            let record = object("secrets/team/obs-credentials")
            let generation = app.user.split(separator: "g").last.map(String.init) ?? ""
            guard let line = file.split(separator: "\n").first(where: { $0.hasPrefix(app.user + ":") }) else { return "credential \(app.user) is not in the htpasswd file" }
            let hash = String(line.dropFirst(app.user.count + 1))
            guard record?.secretString("g\(generation).api.bcrypt") == hash, record?.secretString("g\(generation).api") == app.password else {
                return "the file's hash for \(app.user) is not of the app's password"
            }
            let served = object("secrets/team/obs-ingest-tls")
            guard let leaf = served?.secretString("tls.crt"), let serverBundle = served?.secretString("ca.crt") else { return "nothing served" }
            if let e = await PKI.verify(leafPEM: leaf, bundlePEM: app.bundle, at: now) { return "the served certificate does not verify against the app's bundle: \(e)" }
            if let e = await PKI.verify(leafPEM: app.certificate, bundlePEM: PKI.certificates(inBundle: serverBundle), at: now) {
                return "the app's client certificate does not verify against the collector's bundle: \(e)"
            }
            return nil
        }

        var checks = 0
        var forced: [String] = []
        var rotations = Set<Int>()
        var rollovers = 0
        var lastPhase = "Stable"
        var restartsWhenNamed = 0
        let end = clock.wallNow.addingTimeInterval(730 * day)
        while clock.wallNow < end {
            // Vigil converges on what changed (a write can wake a further step at once).
            var next = 2 * day
            for _ in 0..<2 {
                if case .requeueAfter(let d) = try await r.reconcile("team/obs") { next = min(next, d + 1) }
            }
            let status = stacks.get("team/obs")?.status
            let named = Set((status?.credentials?.staleConsumers ?? []) + (status?.certificate?.staleConsumers ?? []))
            if let g = status?.credentials?.generation { rotations.insert(g) }
            let phase = status?.certificate?.caPhase ?? "Stable"
            if phase != lastPhase && phase == "NewCAInBundle" { rollovers += 1 }
            lastPhase = phase
            for i in apps.indices where named.contains("apps/\(apps[i].pod)") && apps[i].namedAt == nil {
                apps[i].namedAt = clock.wallNow
                // Told to restart: a prompt app does within two days; the stubborn one ignores it.
                if !apps[i].stubborn {
                    apps[i].restartAt = min(apps[i].restartAt, clock.wallNow.addingTimeInterval(Double.random(in: 60...(2 * day), using: &rng)))
                    restartsWhenNamed += 1
                }
            }
            for i in apps.indices {
                checks += 1
                guard let why = await refusal(apps[i]) else { continue }
                // Only a forced-out app may be refused, and only after it was named.
                #expect(apps[i].stubborn && apps[i].namedAt != nil, "\(apps[i].pod) (started \(apps[i].started)) refused at \(clock.wallNow) without being named first: \(why)")
                forced.append("\(apps[i].pod): \(why)")
                // A refused app crashes and restarts onto what its Secret says now.
                apps[i] = try start(apps[i].name, stubborn: apps[i].stubborn)
                publishPods(apps)
            }
            // The next moment anything happens: a deadline, a restart, or a day.
            let restartIn = apps.map { $0.restartAt.timeIntervalSince(clock.wallNow) }.min() ?? day
            clock.advance(by: max(1, min(next, restartIn)))
            var restarted = false
            for i in apps.indices where apps[i].restartAt <= clock.wallNow {
                apps[i] = try start(apps[i].name, stubborn: apps[i].stubborn)
                restarted = true
            }
            if restarted {
                publishPods(apps)
                clock.advance(by: 1)
            }
        }
        print("simulation: \(checks) checks, \(rotations.count) generations, \(rollovers) rollovers, \(restartsWhenNamed) told, \(forced.count) forced: \(forced)")
        #expect(rotations.count >= 24, "credential generations seen: \(rotations.sorted())")
        #expect(rollovers >= 2, "CA rollovers: \(rollovers)")
        #expect(restartsWhenNamed >= 20, "apps told to restart: \(restartsWhenNamed)")
        #expect(checks > 1000)
        // The stubborn app is forced out at some point, and each time it was named first (checked above).
        #expect(!forced.isEmpty, "the stubborn app was never forced out")
        #expect(fake.eventReasons.withLock { $0 }.contains("PreviousCredentialsForcedOut"))
    }
}
