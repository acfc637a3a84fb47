import Controller
import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

/// A rotation's overlap ends when the pods that read the client Secret have restarted onto
/// the new credential, or when `rotation.maxOverlap` forces it, and then the pods still
/// holding the old one are named first.
@Suite struct ConsumerTests {
    let logger = Logger(label: "test")

    @Test func thePlannerWaitsForStaleConsumersUntilMaxOverlap() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let policy = CredentialPolicy(interval: 30 * 86400, overlap: 3600, maxOverlap: 86400)
        let state = CredentialState(generation: 2, phase: .overlap, since: t0, rotatedAt: t0)
        var o = CredentialObservation(clients: [], now: t0.addingTimeInterval(7200), rolledOut: true, clientsHoldGeneration: true)
        #expect(CredentialPlanner.plan(state, o, policy: policy) == .dropPrevious)
        o.staleConsumers = ["apps/api-1"]
        #expect(CredentialPlanner.plan(state, o, policy: policy) == .wait(until: t0.addingTimeInterval(86400)))
        o.now = t0.addingTimeInterval(86400)
        #expect(CredentialPlanner.plan(state, o, policy: policy) == .dropPrevious)
        // overlap stays the minimum, restarted or not.
        o.staleConsumers = []
        o.now = t0.addingTimeInterval(60)
        #expect(CredentialPlanner.plan(state, o, policy: policy) == .wait(until: t0.addingTimeInterval(3600)))
    }

    @Test func aPodThatReadsTheSecretIsDecodedToItsSecretsAndStartTime() throws {
        let json = #"""
            {"metadata":{"name":"api-1","namespace":"apps","resourceVersion":"9","labels":{"a":"b"}},
             "spec":{"containers":[{"name":"c","image":"x","envFrom":[{"secretRef":{"name":"team.obs-otlp-client"}},{"configMapRef":{"name":"cm"}}],
               "env":[{"name":"K","valueFrom":{"secretKeyRef":{"name":"other","key":"k"}}}]}],
               "initContainers":[{"name":"i","image":"x","env":[{"name":"P","value":"v"}]}],
               "volumes":[{"name":"otlp","secret":{"secretName":"team.obs-otlp-client"}},{"name":"p","projected":{"sources":[{"secret":{"name":"proj"}}]}}]},
             "status":{"startTime":"2027-01-15T08:00:00Z","phase":"Running"}}
            """#
        let pod = try JSONCoding.decode(PodSecretUse.self, from: Array(json.utf8))
        #expect(pod.secrets == ["other", "proj", "team.obs-otlp-client"])
        #expect(pod.startTime == "2027-01-15T08:00:00Z" && pod.metadata.namespace == "apps" && pod.metadata.labels == nil)
    }

    func iso(_ d: Date) -> String { d.formatted(.iso8601) }

    @Test func theOldCredentialStaysForPodsThatDidNotRestartAndTheyAreNamed() async throws {
        let fake = FakeCluster()
        let clock = ManualClock()
        let pods = Mutex<[PodSecretUse]>([])
        let stacks = Store<ObservabilityStack>()
        let r = fake.reconciler(stacks: stacks, clock: clock, logger: logger) { pods.withLock { $0 } }
        var spec = StackSpec(environment: .staging)
        spec.ingest = IngestSpec(
            basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "apps")], rotation: RotationSpec(interval: "30d", overlap: "1h", maxOverlap: "2d")))
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        s.metadata.uid = "uid-1"
        s.metadata.generation = 1
        s.metadata.resourceVersion = "1"
        stacks.upsert(s)
        for _ in 0..<2 { _ = try await r.reconcile("team/obs") }
        // An app pod that started with generation 1; another that never started (pending).
        pods.withLock {
            $0 = [
                PodSecretUse(namespace: "apps", name: "api-1", startTime: iso(clock.wallNow), secrets: ["team.obs-otlp-client"]),
                PodSecretUse(namespace: "apps", name: "api-pending", startTime: nil, secrets: ["team.obs-otlp-client"]),
                PodSecretUse(namespace: "apps", name: "unrelated", startTime: iso(clock.wallNow), secrets: ["other"]),
            ]
        }
        func users() -> [String] {
            (fake.objects.withLock { $0["secrets/team/obs-htpasswd"] }?.secretString("htpasswd") ?? "").split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
        }
        // 30 days on: generation 2 is published; the overlap of an hour passes.
        clock.advance(by: 30 * 86400 + 1)
        for _ in 0..<3 { _ = try await r.reconcile("team/obs") }
        #expect(users() == ["api-g1", "api-g2"])
        clock.advance(by: 3600 + 1)
        _ = try await r.reconcile("team/obs")
        // api-1 predates the publication: generation 1 stays, and the pod is named.
        #expect(users() == ["api-g1", "api-g2"])
        let status = try #require(stacks.get("team/obs")?.status?.credentials)
        #expect(status.staleConsumers == ["apps/api-1"] && status.previousRemovedBy != nil)
        #expect(stacks.get("team/obs")?.status?.condition("CredentialsReady")?.message.contains("apps/api-1") == true)
        #expect(fake.eventReasons.withLock { $0 }.filter { $0 == "StaleConsumers" }.count == 1)
        // It restarts: generation 1 leaves at once.
        pods.withLock { $0[0] = PodSecretUse(namespace: "apps", name: "api-1-b", startTime: iso(clock.wallNow), secrets: ["team.obs-otlp-client"]) }
        _ = try await r.reconcile("team/obs")
        #expect(users() == ["api-g2"])
        #expect(stacks.get("team/obs")?.status?.credentials?.staleConsumers == nil)

        // The next rotation, and a pod that never restarts: forced out at maxOverlap, named.
        clock.advance(by: 30 * 86400 + 1)
        for _ in 0..<3 { _ = try await r.reconcile("team/obs") }
        clock.advance(by: 86400)
        _ = try await r.reconcile("team/obs")
        #expect(users() == ["api-g2", "api-g3"])
        clock.advance(by: 86400 + 1)
        _ = try await r.reconcile("team/obs")
        #expect(users() == ["api-g3"])
        #expect(fake.eventReasons.withLock { $0 }.contains("PreviousCredentialsForcedOut"))
    }
}
