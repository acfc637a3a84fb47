import Controller
import Foundation
import KubeClient
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

/// Rotation never stops and never cuts the served certificate off: an expired CA, and a
/// leaf write that fails mid-rollover.
@Suite struct RotationFaultTests {
    let logger = Logger(label: "test")

    func make(_ fake: FakeCluster, clock: ManualClock) -> (StackReconciler, Store<ObservabilityStack>) {
        let stacks = Store<ObservabilityStack>()
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        let r = StackReconciler(
            stacks: stacks, owned: owned, writer: fake, events: EventRecorder(writer: fake, logger: logger), now: { clock.wallNow },
            nodeAddresses: { ["10.0.0.1"] }, logger: logger
        )
        var spec = StackSpec(environment: .production, exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317")))
        spec.ingest = IngestSpec(tls: TLSSpec(duration: "30d"), basicAuth: BasicAuthSpec(enabled: true, rotation: RotationSpec(interval: "3650d")))
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        s.metadata.uid = "uid-1"
        s.metadata.generation = 1
        s.metadata.resourceVersion = "1"
        stacks.upsert(s)
        return (r, stacks)
    }

    func served(_ fake: FakeCluster) -> (leaf: String, bundle: [String])? {
        guard let s = fake.objects.withLock({ $0["secrets/team/obs-ingest-tls"] }), let leaf = s.secretString("tls.crt"), let bundle = s.secretString("ca.crt") else { return nil }
        return (leaf, PKI.certificates(inBundle: bundle))
    }
}

extension RotationFaultTests {
    @Test func anExpiredCARecoversByItself() async throws {
        let fake = FakeCluster()
        let clock = ManualClock()
        let (r, stacks) = make(fake, clock: clock)
        _ = try await r.reconcile("team/obs")
        // Vigil was away for two years: the CA and the leaf have expired.
        clock.advance(by: 2 * 365 * 86400)
        _ = try await r.reconcile("team/obs")
        _ = try await r.reconcile("team/obs")
        let now = clock.wallNow
        let (leaf, bundle) = try #require(served(fake))
        #expect(await PKI.verify(leafPEM: leaf, bundlePEM: bundle, at: now) == nil)
        #expect(stacks.get("team/obs")?.status?.condition("CertificateReady")?.isTrue == true)
    }

    @Test func aLeafWriteThatFailsMidRolloverNeverDropsTheLiveLeafsIssuer() async throws {
        let fake = FakeCluster()
        let clock = ManualClock()
        let (r, stacks) = make(fake, clock: clock)
        _ = try await r.reconcile("team/obs")
        var failedOnce = false
        var phases: [String] = []
        // Step through a CA rollover; when the leaf moves to the new CA, its write fails once.
        for _ in 0..<400 {
            let phase = stacks.get("team/obs")?.status?.certificate?.caPhase ?? ""
            if phases.last != phase { phases.append(phase) }
            if phase == "NewCAInBundle", !failedOnce {
                // The CA Secret is written first, then the leaf's: fail only the second write.
                let writes = Mutex(0)
                fake.beforeWriteHook.withLock {
                    $0 = {
                        let n = writes.withLock { w -> Int in
                            w += 1
                            return w
                        }
                        if n == 2 { throw KubeAPIError(code: 500, reason: "InternalError", message: "etcd timeout") }
                    }
                }
                clock.advance(by: TLSPolicy(leafDuration: 30 * 86400).bundleGrace + 1)
                _ = try? await r.reconcile("team/obs")
                fake.beforeWriteHook.withLock { $0 = nil }
                failedOnce = true
            }
            let result = try await r.reconcile("team/obs")
            let now = clock.wallNow
            let (leaf, bundle) = try #require(served(fake))
            #expect(await PKI.verify(leafPEM: leaf, bundlePEM: bundle, at: now) == nil, "the served leaf does not chain to the served bundle in phase \(phase)")
            guard case .requeueAfter(let d) = result else { break }
            clock.advance(by: d + 1)
            if failedOnce && phases.last == "Stable" && phases.count > 3 { break }
        }
        #expect(failedOnce, "the rollover never reached NewCAInBundle: \(phases)")
        #expect(phases.contains("LeafOnNewCA") && phases.last == "Stable", "\(phases)")
    }

    @Test func certificatesRenewWhileTheSpecIsInvalidAndNothingElseIsTouched() async throws {
        let fake = FakeCluster()
        let clock = ManualClock()
        let (r, stacks) = make(fake, clock: clock)
        _ = try await r.reconcile("team/obs")
        let serial = stacks.get("team/obs")?.status?.certificate?.serial
        let config = fake.objects.withLock { $0["configmaps/team/obs-collector"] }
        // An edit makes the spec invalid (a sampling percentage over 100).
        var s = try #require(stacks.get("team/obs"))
        s.spec.sampling = SamplingSpec(percentage: 250)
        s.metadata.generation = 2
        s.metadata.resourceVersion = "99999999"
        stacks.upsert(s)
        let refused = try await r.reconcile("team/obs")
        #expect(stacks.get("team/obs")?.status?.condition("ConfigValid")?.reason == "InvalidSpec")
        // Not a terminal result: the certificate's deadline is still scheduled.
        guard case .requeueAfter(let d) = refused else {
            Issue.record("a refused stack with certificates schedules their next deadline, got \(refused)")
            return
        }
        clock.advance(by: d + 1)
        _ = try await r.reconcile("team/obs")
        let (leaf, bundle) = try #require(served(fake))
        #expect(await PKI.verify(leafPEM: leaf, bundlePEM: bundle, at: clock.wallNow) == nil)
        #expect(try PKI.load(certificatePEM: leaf, privateKeyPEM: try #require(fake.objects.withLock { $0["secrets/team/obs-ingest-tls"] }?.secretString("tls.key"))).serial != serial)
        // The collector's config is as it was.
        #expect(fake.objects.withLock { $0["configmaps/team/obs-collector"] } == config)
    }
}
