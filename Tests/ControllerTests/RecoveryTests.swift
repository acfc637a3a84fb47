import Controller
import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

/// State Vigil keeps in Secrets is never silently regenerated: a lost CA Secret becomes a
/// rollover from the CA clients trust, a lost credentials record a rotation from the
/// hashes the collector still accepts.
@Suite struct RecoveryTests {
    let logger = Logger(label: "test")

    func make(_ fake: FakeCluster, clock: @escaping @Sendable () -> Date) -> (StackReconciler, Store<ObservabilityStack>, Store<Unstructured>) {
        let stacks = Store<ObservabilityStack>()
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        let r = StackReconciler(
            stacks: stacks, owned: owned, writer: fake, events: EventRecorder(writer: fake, logger: logger), now: clock, nodeAddresses: { ["10.0.0.1"] },
            acceptedStacks: { _ in ["team/obs"] }, logger: logger
        )
        return (r, stacks, owned.first { $0.resource == Secret.resource }!.store)
    }

    func stack() -> ObservabilityStack {
        var spec = StackSpec(environment: .staging)
        spec.ingest = IngestSpec(tls: TLSSpec(duration: "30d"), basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "team")]))
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        s.metadata.uid = "uid-1"
        s.metadata.generation = 1
        s.metadata.resourceVersion = "1"
        return s
    }

    func field(_ fake: FakeCluster, _ key: String, _ k: String) -> String? { fake.objects.withLock { $0[key] }?.secretString(k) }

    @Test func aDeletedCAStartsARolloverAndTheServedCertificateAlwaysVerifiesForClients() async throws {
        let fake = FakeCluster()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let (r, stacks, secrets) = make(fake) { clock.withLock { $0 } }
        stacks.upsert(stack())
        for _ in 0..<2 { _ = try await r.reconcile("team/obs") }
        let oldBundle = try #require(field(fake, "secrets/team/obs-ingest-tls", "ca.crt"))
        let oldLeaf = try #require(field(fake, "secrets/team/obs-ingest-tls", "tls.crt"))

        // Someone deletes the CA Secret.
        try await fake.delete(Secret.resource, namespace: "team", name: "obs-ca")
        secrets.remove("team/obs-ca")
        _ = try await r.reconcile("team/obs")
        // The served certificate is the same, the bundle holds the old CA and a new one.
        #expect(field(fake, "secrets/team/obs-ingest-tls", "tls.crt") == oldLeaf)
        let bundle = try #require(field(fake, "secrets/team/obs-ingest-tls", "ca.crt"))
        #expect(PKI.certificates(inBundle: bundle).count == 2 && bundle.hasPrefix(oldBundle))
        #expect(fake.eventReasons.withLock { $0 }.contains("CARecovered"))
        #expect(stacks.get("team/obs")?.status?.certificate?.caPhase == "NewCAInBundle")
        // Clients that only hold the old bundle verify the served certificate until they have
        // held the new bundle for the whole grace period; after it, the current bundle.
        let newBundleAt = clock.withLock { $0 }
        let grace = TLSPolicy(leafDuration: 30 * 86400).bundleGrace
        var phases = Set<String>()
        for _ in 0..<12 {
            let now = clock.withLock { $0 }
            let served = try #require(field(fake, "secrets/team/obs-ingest-tls", "tls.crt"))
            let current = try #require(field(fake, "secrets/team/obs-ingest-tls", "ca.crt"))
            let clientBundle = now.timeIntervalSince(newBundleAt) < grace ? oldBundle : current
            #expect(await PKI.verify(leafPEM: served, bundlePEM: PKI.certificates(inBundle: clientBundle), at: now) == nil, "at +\(now.timeIntervalSince(newBundleAt)) s")
            #expect(await PKI.verify(leafPEM: served, bundlePEM: PKI.certificates(inBundle: current), at: now) == nil)
            phases.insert(stacks.get("team/obs")?.status?.certificate?.caPhase ?? "")
            clock.withLock { $0 = $0.addingTimeInterval(grace / 3) }
            _ = try await r.reconcile("team/obs")
        }
        // Through the whole rollover, back to one CA.
        #expect(phases.isSuperset(of: ["NewCAInBundle", "LeafOnNewCA", "Stable"]), "\(phases)")
        #expect(PKI.certificates(inBundle: try #require(field(fake, "secrets/team/obs-ingest-tls", "ca.crt"))).count == 1)
    }

    @Test func aDeletedCredentialsRecordKeepsThePublishedCredentialValidUntilTheNextIsPublished() async throws {
        let fake = FakeCluster()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let (r, stacks, secrets) = make(fake) { clock.withLock { $0 } }
        stacks.upsert(stack())
        for _ in 0..<3 { _ = try await r.reconcile("team/obs") }
        let client = "secrets/team/team.obs-otlp-client"
        let header = try #require(field(fake, client, "OTEL_EXPORTER_OTLP_HEADERS"))
        let published = String(decoding: Data(base64Encoded: String((header.removingPercentEncoding ?? header).dropFirst("Authorization=Basic ".count))) ?? Data(), as: UTF8.self)
        let parts = published.split(separator: ":", maxSplits: 1).map(String.init)
        #expect(parts.first == "api-g1")
        func accepted() async throws -> Bool {
            let file = try #require(field(fake, "secrets/team/obs-htpasswd", "htpasswd"))
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("htpasswd-\(UUID().uuidString)").path
            try file.write(toFile: path, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: path) }
            return try await runTool(["htpasswd", "-vb", path, parts[0], parts[1]]).status == 0
        }
        #expect(try await accepted())

        // Someone deletes the credentials record: the old credential stays in the file.
        try await fake.delete(Secret.resource, namespace: "team", name: "obs-credentials")
        secrets.remove("team/obs-credentials")
        fake.autoRollout.store(false, ordering: .relaxed)
        _ = try await r.reconcile("team/obs")
        #expect(fake.eventReasons.withLock { $0 }.contains("CredentialsRecovered"))
        #expect(try await accepted(), "the published credential left the file at once")
        #expect(field(fake, client, "OTEL_EXPORTER_OTLP_HEADERS") == header, "the client Secret changed before the collector had the new file")
        let users = (field(fake, "secrets/team/obs-htpasswd", "htpasswd") ?? "").split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
        #expect(users == ["api-g1", "api-g2"])
        // The collector rolls onto the file: generation 2 is published, generation 1 still accepted.
        let ds = try #require(fake.objects.withLock { $0["daemonsets/team/obs-collector"] })
        var body = ds.object
        body["status"] = ["observedGeneration": .int(ds.metadata.generation ?? 1), "desiredNumberScheduled": 0, "updatedNumberScheduled": 0, "numberAvailable": 0]
        body["metadata"]?["resourceVersion"] = .string(String(fake.rv.add(1, ordering: .relaxed).newValue))
        let rolled = try Unstructured(object: body)
        fake.objects.withLock { $0["daemonsets/team/obs-collector"] = rolled }
        r.testUpsert(rolled, kind: Kinds.daemonSet)
        _ = try await r.reconcile("team/obs")
        _ = try await r.reconcile("team/obs")
        let next = try #require(field(fake, client, "OTEL_EXPORTER_OTLP_HEADERS"))
        let nextUser = String(decoding: Data(base64Encoded: String((next.removingPercentEncoding ?? next).dropFirst("Authorization=Basic ".count))) ?? Data(), as: UTF8.self).split(separator: ":").first
        #expect(nextUser == "api-g2")
        #expect(try await accepted(), "generation 1 left the file before the overlap")
        // Nothing was ever published with an empty password.
        #expect(!next.isEmpty && !(field(fake, client, "OTEL_EXPORTER_OTLP_HEADERS") ?? "").hasSuffix(Data("api-g1:".utf8).base64EncodedString()))
    }
}
