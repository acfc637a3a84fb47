import Controller
import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

/// A CA rollover, like a credential rotation, waits for the pods that read a client Secret:
/// the leaf moves to the new CA only once they trust it, and the old CA leaves only once
/// their client certificates are from the new one, bounded by `rotation.maxOverlap`. Opt-in
/// workloads are restarted once their Secret carries what they must move to. A refused
/// stack keeps rotating.
@Suite struct RolloverConsumerTests {
    let logger = Logger(label: "test")

    @Test func thePlannerHoldsEachRolloverPhaseForConsumersUntilMaxHold() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        let policy = TLSPolicy(leafDuration: 30 * 86400, maxHold: 6 * 86400)
        #expect(policy.bundleGrace == 5 * 86400 && policy.maxHold == 6 * 86400)
        // maxHold is never below the grace.
        #expect(TLSPolicy(leafDuration: 30 * 86400, maxHold: 3600).maxHold == policy.bundleGrace)
        let ca = IssuedCertificate(certificatePEM: "ca", privateKeyPEM: "k", notBefore: t0.addingTimeInterval(-86400 * 300), notAfter: t0.addingTimeInterval(86400 * 65), serial: "01")
        let new = IssuedCertificate(certificatePEM: "ca2", privateKeyPEM: "k", notBefore: t0, notAfter: t0.addingTimeInterval(86400 * 365), serial: "02")
        let leaf = IssuedCertificate(certificatePEM: "l", privateKeyPEM: "k", notBefore: t0, notAfter: t0.addingTimeInterval(30 * 86400), serial: "03")
        for phase in [CAPhase.newCAInBundle(since: t0), .leafOnNewCA(since: t0)] {
            let state = TLSState(cas: [ca, new], leaf: leaf, phase: phase)
            let step: CertificatePlanner.Step = phase == .newCAInBundle(since: t0) ? .moveLeafToNewCA : .dropOldCA
            let afterGrace = t0.addingTimeInterval(5 * 86400 + 1)
            #expect(CertificatePlanner.next(state, now: afterGrace, policy: policy) == step)
            #expect(CertificatePlanner.next(state, now: afterGrace, policy: policy, consumersMoved: false) == .wait(until: t0.addingTimeInterval(6 * 86400)))
            #expect(CertificatePlanner.next(state, now: t0.addingTimeInterval(6 * 86400), policy: policy, consumersMoved: false) == step)
            // The grace stays the minimum.
            #expect(CertificatePlanner.next(state, now: t0.addingTimeInterval(60), policy: policy) == .wait(until: t0.addingTimeInterval(5 * 86400)))
        }
        // An old CA that expires ends the wait: nothing is gained by holding on to it.
        let expiring = TLSState(cas: [ca, new], leaf: leaf, phase: .newCAInBundle(since: t0))
        #expect(CertificatePlanner.next(expiring, now: ca.notAfter, policy: TLSPolicy(leafDuration: 30 * 86400, maxHold: 300 * 86400), consumersMoved: false) == .moveLeafToNewCA)
    }

    func iso(_ d: Date) -> String { d.formatted(.iso8601) }

    /// The pods the test's kubelet runs.
    final class Pods: Sendable {
        let list = Mutex<[PodSecretUse]>([])
        func withLock<R>(_ body: (inout [PodSecretUse]) -> R) -> R { list.withLock { body(&$0) } }
    }

    final class Setup: Sendable {
        let fake = FakeCluster()
        let clock = ManualClock()
        let pods = Pods()
        let stacks = Store<ObservabilityStack>()
        let reconciler: StackReconciler
        init(_ make: (FakeCluster, ManualClock, Pods, Store<ObservabilityStack>) -> StackReconciler) {
            reconciler = make(fake, clock, pods, stacks)
        }
    }

    func setup(mTLS: Bool, maxOverlap: String = "6d") -> Setup {
        Setup { fake, clock, pods, stacks in make(fake, clock, pods, stacks, mTLS: mTLS, maxOverlap: maxOverlap) }
    }

    func make(_ fake: FakeCluster, _ clock: ManualClock, _ pods: Pods, _ stacks: Store<ObservabilityStack>, mTLS: Bool, maxOverlap: String) -> StackReconciler {
        let r = fake.reconciler(stacks: stacks, clock: clock, logger: logger) { pods.withLock { $0 } }
        var spec = StackSpec(environment: .staging)
        spec.ingest = IngestSpec(
            tls: TLSSpec(clientAuth: mTLS ? "Required" : nil, duration: "30d"),
            basicAuth: BasicAuthSpec(
                clients: [ClientRef(name: "api", namespace: "apps")], rotation: RotationSpec(interval: "3650d", overlap: "1h", maxOverlap: maxOverlap)))
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        s.metadata.uid = "uid-1"
        s.metadata.generation = 1
        s.metadata.resourceVersion = "1"
        stacks.upsert(s)
        return r
    }

    /// Reconciles, then moves the clock to the next deadline, until `phase` is reached.
    func run(_ t: Setup, until phase: String, limit: Int = 200) async throws {
        for _ in 0..<limit {
            let result = try await t.reconciler.reconcile("team/obs")
            if t.stacks.get("team/obs")?.status?.certificate?.caPhase == phase { return }
            guard case .requeueAfter(let d) = result else { break }
            t.clock.advance(by: d + 1)
        }
        Issue.record("phase \(phase) never reached")
    }

    func caPhase(_ t: Setup) -> String? { t.stacks.get("team/obs")?.status?.certificate?.caPhase }

    @Test func eachRolloverPhaseWaitsForThePodThatWouldBeCutOffNamesItAndGoesOnWhenItRestarts() async throws {
        let t = setup(mTLS: true)
        for _ in 0..<2 { _ = try await t.reconciler.reconcile("team/obs") }
        let secret = "team.obs-otlp-client"
        t.pods.withLock { $0 = [PodSecretUse(namespace: "apps", name: "api-1", startTime: iso(t.clock.wallNow), secrets: [secret])] }
        try await run(t, until: "NewCAInBundle")
        // The client Secret carries the two-CA bundle; the pod started before it.
        let bundle = try #require(t.fake.objects.withLock { $0["secrets/apps/\(secret)"] }?.secretString("ca.crt"))
        #expect(PKI.certificates(inBundle: bundle).count == 2)
        _ = try await t.reconciler.reconcile("team/obs")
        #expect(t.stacks.get("team/obs")?.status?.certificate?.staleConsumers == ["apps/api-1"])
        #expect(t.stacks.get("team/obs")?.status?.condition("CertificateReady")?.message.contains("apps/api-1") == true)
        #expect(t.fake.eventReasons.withLock { $0 }.filter { $0 == "StaleConsumers" }.count == 1)
        // Past the grace (5 days), the leaf stays on the old CA: the pod trusts only it.
        t.clock.advance(by: 5 * 86400 + 60)
        _ = try await t.reconciler.reconcile("team/obs")
        #expect(caPhase(t) == "NewCAInBundle")
        // It restarts onto the new bundle: the leaf moves at once.
        t.pods.withLock { $0 = [PodSecretUse(namespace: "apps", name: "api-2", startTime: iso(t.clock.wallNow), secrets: [secret])] }
        _ = try await t.reconciler.reconcile("team/obs")
        #expect(caPhase(t) == "LeafOnNewCA")
        _ = try await t.reconciler.reconcile("team/obs")
        // mTLS: api-2 presents a client certificate from the old CA; the old CA stays for it.
        #expect(t.stacks.get("team/obs")?.status?.certificate?.staleConsumers == ["apps/api-2"])
        t.clock.advance(by: 5 * 86400 + 60)
        _ = try await t.reconciler.reconcile("team/obs")
        #expect(caPhase(t) == "LeafOnNewCA")
        let cert = try #require(t.fake.objects.withLock { $0["secrets/apps/\(secret)"] }?.secretString("tls.crt"))
        let ca = try #require(t.fake.objects.withLock { $0["secrets/team/obs-ca"] }?.secretString("tls.crt"))
        #expect(PKI.issuer(of: cert, among: [ca]) != nil, "the client Secret carries a certificate from the new CA")
        t.pods.withLock { $0 = [PodSecretUse(namespace: "apps", name: "api-3", startTime: iso(t.clock.wallNow), secrets: [secret])] }
        _ = try await t.reconciler.reconcile("team/obs")
        #expect(caPhase(t) == "Stable")
        #expect(t.stacks.get("team/obs")?.status?.certificate?.staleConsumers == nil)
        #expect(!t.fake.eventReasons.withLock { $0 }.contains("PreviousCAForcedOut"))
    }

    @Test func aPodThatNeverRestartsIsNamedAndTheRolloverGoesOnAtMaxOverlap() async throws {
        let t = setup(mTLS: false)
        for _ in 0..<2 { _ = try await t.reconciler.reconcile("team/obs") }
        t.pods.withLock { $0 = [PodSecretUse(namespace: "apps", name: "api-1", startTime: iso(t.clock.wallNow), secrets: ["team.obs-otlp-client"])] }
        try await run(t, until: "NewCAInBundle")
        let began = t.clock.wallNow
        _ = try await t.reconciler.reconcile("team/obs")
        let endsBy = try #require(t.stacks.get("team/obs")?.status?.certificate?.restartBy)
        #expect(abs((try Date(endsBy, strategy: .iso8601)).timeIntervalSince(began) - 6 * 86400) <= 2)
        // Without mTLS nothing is cut off by the old CA leaving: only the first phase waits.
        try await run(t, until: "LeafOnNewCA")
        #expect(t.clock.wallNow.timeIntervalSince(began) >= 6 * 86400)
        #expect(t.fake.eventReasons.withLock { $0 }.contains("PreviousCAForcedOut"))
        try await run(t, until: "Stable")
        #expect(t.clock.wallNow.timeIntervalSince(began) < 12 * 86400)
    }

    func deployment(_ name: String, annotation: String?, secret: String = "team.obs-otlp-client") throws -> Unstructured {
        var meta: JSONObject = ["name": .string(name), "namespace": "apps", "generation": 1]
        if let annotation { meta["annotations"] = [Annotations.restartOnRotation: .string(annotation)] }
        return try Unstructured(object: [
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": .object(meta),
            "spec": ["template": ["metadata": ["labels": ["app": .string(name)]], "spec": ["containers": [["name": "app", "image": "x", "envFrom": [["secretRef": ["name": .string(secret)]]]]]]]],
        ])
    }

    @Test func optedInWorkloadsAreRestartedOnceTheirSecretCarriesTheNewGeneration() async throws {
        let t = setup(mTLS: false)
        let secret = "team.obs-otlp-client"
        t.fake.objects.withLock {
            $0["deployments/apps/api"] = try? deployment("api", annotation: "team/obs")
            $0["deployments/apps/other"] = try? deployment("other", annotation: nil)
            $0["deployments/apps/elsewhere"] = try? deployment("elsewhere", annotation: "team/another")
        }
        for _ in 0..<2 { _ = try await t.reconciler.reconcile("team/obs") }
        t.clock.advance(by: 2)
        t.pods.withLock { $0 = ["api-1", "other-1", "elsewhere-1"].map { PodSecretUse(namespace: "apps", name: $0, startTime: iso(t.clock.wallNow), secrets: [secret]) } }
        _ = try await t.reconciler.reconcile("team/obs")
        // Every pod started after the Secret was published: nothing to restart.
        #expect(t.fake.templatePatches.withLock { $0 }.isEmpty)
        // A rotation: while the collector rolls (RollingOut), no restart yet.
        t.fake.autoRollout.store(false, ordering: .relaxed)
        var s = try #require(t.stacks.get("team/obs"))
        s.metadata.annotations = [Annotations.rotateCredentials: "now"]
        s.metadata.resourceVersion = "99999999"
        t.stacks.upsert(s)
        t.clock.advance(by: 60)
        _ = try await t.reconciler.reconcile("team/obs")
        #expect(t.stacks.get("team/obs")?.status?.credentials?.phase == "RollingOut")
        #expect(t.fake.templatePatches.withLock { $0 }.isEmpty)
        // The collector rolled: generation 2 is published, and only the opted-in workload restarts.
        t.fake.autoRollout.store(true, ordering: .relaxed)
        let ds = try #require(t.fake.objects.withLock { $0["daemonsets/team/obs-collector"] })
        var o = ds.object
        o["status"] = ["observedGeneration": .int(ds.metadata.generation ?? 1), "desiredNumberScheduled": 0, "numberUnavailable": 0]
        // The DaemonSet controller's status write: a newer resourceVersion.
        o["metadata"]?["resourceVersion"] = "99999999"
        let rolled = try Unstructured(object: o)
        t.fake.objects.withLock { $0["daemonsets/team/obs-collector"] = rolled }
        t.reconciler.testUpsert(rolled, kind: Kinds.daemonSet)
        _ = try await t.reconciler.reconcile("team/obs")
        #expect(t.stacks.get("team/obs")?.status?.credentials?.generation == 2)
        #expect(t.fake.templatePatches.withLock { $0 } == ["deployments/apps/api"])
        let stamp = t.fake.objects.withLock { $0["deployments/apps/api"] }?.object["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.restartedAt]?.stringValue
        #expect(stamp == t.stacks.get("team/obs")?.status?.credentials?.rotatedAt)
        #expect(t.fake.eventReasons.withLock { $0 }.contains("ConsumersRestarted"))
        // Its pods have not been replaced yet: no second patch.
        _ = try await t.reconciler.reconcile("team/obs")
        #expect(t.fake.templatePatches.withLock { $0 }.count == 1)
    }

    @Test func credentialsRotateAndTheCollectorRollsWhileTheSpecIsInvalidOrABackendSecretIsMissing() async throws {
        for fault in ["invalid spec", "missing Secret"] {
            let t = setup(mTLS: false)
            for _ in 0..<2 { _ = try await t.reconciler.reconcile("team/obs") }
            let config = t.fake.objects.withLock { $0["configmaps/team/obs-collector"] }
            var s = try #require(t.stacks.get("team/obs"))
            if fault == "invalid spec" {
                s.spec.sampling = SamplingSpec(percentage: 250)
            } else {
                s.spec.exporters = ExportersSpec(
                    tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317", bearerTokenSecret: SecretKeyRef(name: "absent", key: "token")))
            }
            s.metadata.annotations = [Annotations.rotateCredentials: "now"]
            s.metadata.generation = 2
            s.metadata.resourceVersion = "99999999"
            t.stacks.upsert(s)
            func users() -> [String] {
                (t.fake.objects.withLock { $0["secrets/team/obs-htpasswd"] }?.secretString("htpasswd") ?? "").split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
            }
            var result = try await t.reconciler.reconcile("team/obs")
            #expect(t.stacks.get("team/obs")?.status?.condition("Ready")?.isTrue == false, "\(fault)")
            for _ in 0..<10 {
                if users() == ["api-g2"] { break }
                guard case .requeueAfter(let d) = result else {
                    Issue.record("\(fault): a refused stack in a rotation schedules its next step, got \(result)")
                    break
                }
                t.clock.advance(by: d + 1)
                result = try await t.reconciler.reconcile("team/obs")
            }
            #expect(users() == ["api-g2"], "\(fault)")
            // The client got generation 2; the collector rolled onto each file; its config is as it was.
            #expect(t.fake.objects.withLock { $0["secrets/apps/team.obs-otlp-client"] }?.metadata.annotations?[Annotations.credentialGeneration] == "2")
            let htpasswd = try #require(t.fake.objects.withLock { $0["secrets/team/obs-htpasswd"] }?.secretString("htpasswd"))
            let template = t.fake.objects.withLock { $0["daemonsets/team/obs-collector"] }?.object["spec"]?["template"]?["metadata"]?["annotations"]
            #expect(template?[Annotations.htpasswdHash]?.stringValue == sha256Hex(Array(htpasswd.utf8)), "\(fault)")
            #expect(t.fake.objects.withLock { $0["configmaps/team/obs-collector"] } == config)
        }
    }

    @Test func anObjectTheAPIServerRefusesDoesNotStopTheClientSecrets() async throws {
        let t = setup(mTLS: false)
        for _ in 0..<2 { _ = try await t.reconciler.reconcile("team/obs") }
        // An edit changes the Grafana datasources, which the API server refuses; a rotation is asked for.
        let refusedKey = try #require(t.fake.objects.withLock { $0.keys.first { $0.hasPrefix("configmaps/team/") && $0.contains("datasources") } })
        t.fake.rejected.withLock { $0[refusedKey] = "metadata.annotations: Too long: must have at most 262144 bytes" }
        var s = try #require(t.stacks.get("team/obs"))
        s.spec.grafana = GrafanaSpec(prometheusURL: "http://prometheus.monitoring.svc:9090")
        s.metadata.annotations = [Annotations.rotateCredentials: "now"]
        s.metadata.generation = 2
        s.metadata.resourceVersion = "99999999"
        t.stacks.upsert(s)
        var result = try await t.reconciler.reconcile("team/obs")
        for _ in 0..<5 {
            if case .requeueAfter(let d) = result { t.clock.advance(by: min(d, 3700) + 1) }
            result = try await t.reconciler.reconcile("team/obs")
        }
        #expect(t.stacks.get("team/obs")?.status?.condition("Ready")?.reason == "ObjectRejected")
        #expect(t.fake.objects.withLock { $0["secrets/apps/team.obs-otlp-client"] }?.metadata.annotations?[Annotations.credentialGeneration] == "2")
        let users = (t.fake.objects.withLock { $0["secrets/team/obs-htpasswd"] }?.secretString("htpasswd") ?? "").split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
        #expect(users == ["api-g2"], "the rotation finished while an object was refused: \(users)")
    }
}
