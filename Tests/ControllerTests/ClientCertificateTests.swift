import Controller
import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

/// mTLS: each client's certificate comes from the CA that signs now, and always chains to
/// the bundle the collector trusts (`client_ca_file`), through a CA rollover.
@Suite struct ClientCertificateTests {
    @Test func clientCertificatesChainToTheTrustedBundleThroughACARollover() async throws {
        let fake = FakeCluster()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let stacks = Store<ObservabilityStack>()
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        let logger = Logger(label: "test")
        let r = StackReconciler(
            stacks: stacks, owned: owned, writer: fake, events: EventRecorder(writer: fake, logger: logger), now: { clock.withLock { $0 } },
            acceptedStacks: { _ in ["team/obs"] }, logger: logger
        )
        var spec = StackSpec(environment: .production, exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317")))
        spec.ingest = IngestSpec(
            tls: TLSSpec(clientAuth: "Required", duration: "30d"),
            basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "apps")], rotation: RotationSpec(interval: "3650d"))
        )
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        s.metadata.uid = "uid-1"
        s.metadata.generation = 1
        s.metadata.resourceVersion = "1"
        stacks.upsert(s)
        func field(_ key: String, _ k: String) -> String? {
            fake.objects.withLock { $0[key] }?.secretString(k)
        }
        var issuers = Set<String>()
        var caCounts = Set<Int>()
        var days = 0.0
        let start = clock.withLock { $0 }
        while days < 420 {
            var result = try await r.reconcile("team/obs")
            result = try await r.reconcile("team/obs")
            let now = clock.withLock { $0 }
            let cert = try #require(field("secrets/apps/team.obs-otlp-client", "tls.crt"))
            let key = try #require(field("secrets/apps/team.obs-otlp-client", "tls.key"))
            let bundle = try #require(field("secrets/team/obs-ingest-tls", "ca.crt"))
            // The bundle file holds one or two CAs.
            let cas = PKI.certificates(inBundle: bundle)
            #expect(!cas.isEmpty)
            let problem = await PKI.verify(leafPEM: cert, bundlePEM: cas, at: now)
            #expect(problem == nil, "day \(Int(days)), \(cas.count) CA(s): the client certificate does not chain to the bundle: \(problem ?? "")")
            caCounts.insert(cas.count)
            #expect(PKI.problemWithKeyPair(certificatePEM: cert, privateKeyPEM: key, now: now) == nil)
            #expect(field("secrets/apps/team.obs-otlp-client", "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE") == ClientSecret.clientCertificatePath)
            issuers.insert(field("secrets/team/obs-client-certs", "api.issuer") ?? "")
            guard case .requeueAfter(let d) = result else {
                Issue.record("a stack with certificates schedules its next deadline")
                return
            }
            clock.withLock { $0 = $0.addingTimeInterval(d + 1) }
            days = clock.withLock { $0 }.timeIntervalSince(start) / 86400
        }
        // The CA rolled over, and the client certificate moved to the new one.
        #expect(issuers.count >= 2, "issuers seen: \(issuers.count)")
        #expect(caCounts == [1, 2])
    }
}
