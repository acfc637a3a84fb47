import Controller
import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

/// The credential rotation state machine, run through ten rotations against the in-memory
/// API with a simulated DaemonSet controller, a fixed clock that only moves when told, and
/// the operator crashing before each write in turn. After every write, every credential a
/// client Secret publishes must be accepted, by the real `htpasswd -vb`, by the file of
/// every collector pod that could be running: the pods of the DaemonSet (each holds the
/// file it read when it started) and a pod that would start now.
@Suite struct CredentialRotationTests {
    struct Crash: Error {}

    /// One published credential, or one file a pod could hold, at some moment.
    struct Snapshot: Sendable {
        var published: [(client: String, user: String, password: String)]
        var files: [String]
        var label: String
    }

    /// The DaemonSet controller's part: three nodes, one pod each. A pod reads the
    /// htpasswd Secret when it starts; a rolling update replaces one pod per tick.
    final class World: Sendable {
        let fake = FakeCluster()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let pods = Mutex<[(hash: String, file: String)]>(Array(repeating: ("", ""), count: 3))
        let snapshots = Mutex<[Snapshot]>([])
        let logger = Logger(label: "test")

        init() { fake.autoRollout.store(false, ordering: .relaxed) }

        func object(_ key: String) -> Unstructured? { fake.objects.withLock { $0[key] } }

        static func decode(_ o: Unstructured?, _ k: String) -> String? {
            o?.secretString(k)
        }

        /// What clients hold, and what files could be serving, right now.
        func snapshot(_ label: String) {
            var published: [(String, String, String)] = []
            for (client, ns) in [("api", "apps"), ("worker", "jobs")] {
                guard let header = Self.decode(object("secrets/\(ns)/team.obs-otlp-client"), "OTEL_EXPORTER_OTLP_HEADERS") else { continue }
                let raw = Data(base64Encoded: String((header.removingPercentEncoding ?? header).dropFirst("Authorization=Basic ".count))) ?? Data()
                let parts = String(decoding: raw, as: UTF8.self).split(separator: ":", maxSplits: 1).map(String.init)
                published.append((client, parts.first ?? "", parts.count > 1 ? parts[1] : ""))
            }
            var files = pods.withLock { $0.filter { !$0.hash.isEmpty }.map(\.file) }
            if let current = Self.decode(object("secrets/team/obs-htpasswd"), "htpasswd") { files.append(current) }
            let snap = Snapshot(published: published, files: Array(Set(files)), label: label)
            snapshots.withLock { $0.append(snap) }
        }

        /// Replaces one pod whose template is out of date, then reports the DaemonSet's
        /// status as the controller would. Returns whether anything changed.
        func tick(into reconciler: StackReconciler) throws -> Bool {
            guard let ds = object("daemonsets/team/obs-collector") else { return false }
            let hash = ds.object["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.htpasswdHash]?.stringValue ?? ""
            let file = Self.decode(object("secrets/team/obs-htpasswd"), "htpasswd") ?? ""
            let changed = pods.withLock { pods -> Bool in
                guard let i = pods.firstIndex(where: { $0.hash != hash }) else { return false }
                pods[i] = (hash, file)
                return true
            }
            let updated = pods.withLock { $0.filter { $0.hash == hash }.count }
            let status: JSONValue = [
                "observedGeneration": .int(ds.metadata.generation ?? 1), "desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                "updatedNumberScheduled": .int(updated), "numberAvailable": 3, "numberReady": 3, "numberMisscheduled": 0,
            ]
            guard changed || ds.object["status"] != status else { return false }
            var body = ds.object
            body["status"] = status
            body["metadata"]?["resourceVersion"] = .string(String(fake.rv.add(1, ordering: .relaxed).newValue))
            let live = try Unstructured(object: body)
            fake.objects.withLock { $0["daemonsets/team/obs-collector"] = live }
            reconciler.testUpsert(live, kind: Kinds.daemonSet)
            if changed { snapshot("pod replaced") }
            return true
        }

        /// A fresh operator: its caches filled from what the API holds.
        func start(stack initial: ObservabilityStack) -> (StackReconciler, Store<ObservabilityStack>) {
            let stacks = Store<ObservabilityStack>()
            let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
            for (key, o) in fake.objects.withLock({ $0 }) {
                let plural = key.split(separator: "/").first.map(String.init)
                owned.first { $0.resource.plural == plural }?.store.upsert(o)
            }
            stacks.upsert(fake.stackObject.withLock { $0 } ?? initial)
            let r = StackReconciler(
                stacks: stacks, owned: owned, writer: fake, events: EventRecorder(writer: fake, logger: logger),
                now: { [self] in self.clock.withLock { $0 } }, acceptedStacks: { _ in ["team/obs"] }, logger: logger
            )
            return (r, stacks)
        }
    }

    /// `htpasswd -vb` answers, by file, user and password: the same question is asked
    /// many times.
    actor Verifier {
        var answers: [String: Bool] = [:]
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-rotation-\(UUID().uuidString.prefix(8))").path

        func accepts(file: String, user: String, password: String) async throws -> Bool {
            let key = "\(file.hashValue)|\(user)|\(password)"
            if let a = answers[key] { return a }
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let path = "\(dir)/\(UUID().uuidString)"
            try file.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let r = try await runTool(["htpasswd", "-vb", path, user, password])
            // 0: the password matches; 3: it does not; 6: no such user. Anything else:
            // the tool failed.
            #expect([0, 3, 6].contains(r.status), "htpasswd -vb failed: \(r.output)")
            answers[key] = r.status == 0
            return r.status == 0
        }
    }

    @Test func tenRotationsWithACrashBeforeEveryWriteNeverPublishACredentialARunningPodRejects() async throws {
        let world = World()
        let fake = world.fake
        var spec = StackSpec(environment: .production, exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317")))
        spec.ingest = IngestSpec(
            basicAuth: BasicAuthSpec(
                clients: [ClientRef(name: "api", namespace: "apps"), ClientRef(name: "worker", namespace: "jobs")],
                rotation: RotationSpec(interval: "30d", overlap: "24h")
            )
        )
        var initial = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        initial.metadata.uid = "uid-1"
        initial.metadata.generation = 1
        initial.metadata.resourceVersion = "1"
        fake.afterWriteHook.withLock { $0 = { world.snapshot("after a write") } }

        var (reconciler, stacks) = world.start(stack: initial)
        let verifier = Verifier()
        var checked = 0
        func checkSnapshots() async throws {
            let snaps = world.snapshots.withLock { s -> [Snapshot] in
                defer { s.removeAll() }
                return s
            }
            for snap in snaps {
                for p in snap.published {
                    for file in snap.files {
                        let ok = try await verifier.accepts(file: file, user: p.user, password: p.password)
                        #expect(ok, "\(p.client)'s published credential \(p.user) is rejected by a file that could be serving (\(snap.label))")
                        checked += 1
                    }
                }
            }
        }
        func credentialsAnnotation(_ k: String) -> String? {
            world.object("secrets/team/obs-credentials")?.metadata.annotations?["observability.vigil.dev/\(k)"]
        }

        var attempts: [String: Int] = [:]
        var crashes: [String: Set<Int>] = [:]
        var requested = 0
        var exposedOnce = false
        var awaitingFrom: Int? = nil
        var iterations = 0
        while iterations < 5000 {
            iterations += 1
            let phase = credentialsAnnotation("credential-phase") ?? ""
            // Crash before write number k of this reconcile, k cycling through 1...6 in each
            // phase (so that how many reconciles a phase takes cannot skip a position);
            // every seventh reconcile runs to its end.
            attempts[phase, default: 0] += 1
            let crashBefore = attempts[phase]! % 7
            let writes = Mutex(0)
            fake.beforeWriteHook.withLock {
                $0 = {
                    let n = writes.withLock { w -> Int in
                        w += 1
                        return w
                    }
                    if crashBefore != 0 && n == crashBefore { throw Crash() }
                }
            }
            let result: ReconcileResult
            do {
                result = try await reconciler.reconcile("team/obs")
            } catch is Crash {
                crashes[phase, default: []].insert(crashBefore)
                try await checkSnapshots()
                (reconciler, stacks) = world.start(stack: initial)
                continue
            }
            fake.beforeWriteHook.withLock { $0 = nil }
            try await checkSnapshots()
            if try world.tick(into: reconciler) {
                try await checkSnapshots()
                continue
            }
            // Quiet: the next reconcile would come from a deadline. Some rotations are
            // asked for instead: by the annotation, or by deleting a client's Secret. Those
            // must start with the clock where it is.
            let nowGeneration = Int(credentialsAnnotation("credential-generation") ?? "") ?? 0
            let nowPhase = credentialsAnnotation("credential-phase") ?? ""
            if nowGeneration == 11 && nowPhase == "Stable" { break }
            if let from = awaitingFrom {
                #expect(nowGeneration > from || nowPhase != "Stable", "a requested or exposure rotation did not start (generation \(from))")
                awaitingFrom = nil
            }
            if nowPhase == "Stable", fake.objects.withLock({ $0["secrets/jobs/team.obs-otlp-client"] }) != nil {
                if nowGeneration % 3 == 1 && requested < nowGeneration {
                    requested = nowGeneration
                    var s = try #require(stacks.get("team/obs"))
                    s.metadata.annotations = [Annotations.rotateCredentials: "request-\(nowGeneration)"]
                    s.metadata.resourceVersion = String(fake.rv.add(1, ordering: .relaxed).newValue)
                    stacks.upsert(s)
                    fake.stackObject.withLock { $0 = s }
                    awaitingFrom = nowGeneration
                    continue
                }
                if nowGeneration == 5 && !exposedOnce {
                    exposedOnce = true
                    try await fake.delete(Secret.resource, namespace: "jobs", name: "team.obs-otlp-client")
                    // The informer sees the deletion.
                    (reconciler, stacks) = world.start(stack: initial)
                    awaitingFrom = nowGeneration
                    continue
                }
            }
            guard case .requeueAfter(let d) = result else {
                Issue.record("a converged stack with credentials schedules its next deadline")
                return
            }
            world.clock.withLock { $0 = $0.addingTimeInterval(d + 1) }
        }

        // Ten rotations, each ending with only the newest generation in the file.
        let file = try #require(World.decode(world.object("secrets/team/obs-htpasswd"), "htpasswd"))
        #expect(file.split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) } == ["api-g11", "worker-g11"])
        #expect(credentialsAnnotation("credential-generation") == "11")
        // The stack's status reports it.
        let status = try #require(stacks.get("team/obs")?.status?.credentials)
        #expect(status.generation == 11 && status.phase == "Stable" && status.nextRotation != nil)
        // A crash struck every phase at every write position a reconcile reached.
        for phase in ["Stable", "RollingOut", "Overlap"] {
            #expect((crashes[phase] ?? []).isSuperset(of: [1, 2, 3]), "crashes in \(phase): \(crashes[phase] ?? [])")
        }
        #expect(checked > 100, "only \(checked) credential/file pairs were checked")
        #expect(iterations < 5000)
        #expect(requested >= 7 && exposedOnce)
    }
}
