import Controller
import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

/// The agent-to-gateway hop: mTLS with certificates from the stack's CA, issued, renewed
/// and carried through a CA rollover like the serving leaf; a real TLS stack refuses
/// anything else.
@Suite struct GatewayTLSTests {
    let logger = Logger(label: "test")

    func make(_ fake: FakeCluster, now: @escaping @Sendable () -> Date) -> (StackReconciler, Store<ObservabilityStack>) {
        let stacks = Store<ObservabilityStack>()
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        let r = StackReconciler(
            stacks: stacks, owned: owned, writer: fake, events: EventRecorder(writer: fake, logger: logger), now: now,
            nodeAddresses: { ["10.0.0.1"] }, logger: logger
        )
        return (r, stacks)
    }

    func stack(name: String = "obs", tls: TLSSpec? = nil) -> ObservabilityStack {
        var spec = StackSpec(environment: .production, exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.tracing.svc:4317")))
        spec.collector = CollectorSpec(gateway: GatewaySpec(replicas: 2))
        spec.ingest = IngestSpec(tls: tls, basicAuth: BasicAuthSpec(rotation: RotationSpec(interval: "3650d")))
        var s = ObservabilityStack(metadata: ObjectMeta(name: name, namespace: "team"), spec: spec)
        s.metadata.uid = "uid-\(name)"
        s.metadata.generation = 1
        s.metadata.resourceVersion = "1"
        return s
    }

    static func field(_ fake: FakeCluster, _ key: String, _ k: String) -> String? {
        fake.objects.withLock { $0[key] }?.secretString(k)
    }

    @Test func agentsAndTheGatewayTrustEachOtherThroughACARollover() async throws {
        let fake = FakeCluster()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let (r, stacks) = make(fake, now: { clock.withLock { $0 } })
        stacks.upsert(stack(tls: TLSSpec(duration: "30d")))
        var issuers = Set<String>()
        var caCounts = Set<Int>()
        var bundleHashes = Set<String>()
        let start = clock.withLock { $0 }
        while clock.withLock({ $0 }).timeIntervalSince(start) < 420 * 86400 {
            _ = try await r.reconcile("team/obs")
            let result = try await r.reconcile("team/obs")
            let now = clock.withLock { $0 }
            let gatewayCert = try #require(Self.field(fake, "secrets/team/obs-gateway-tls", "tls.crt"))
            let gatewayTrust = try #require(Self.field(fake, "secrets/team/obs-gateway-tls", "ca.crt"))
            let agentCert = try #require(Self.field(fake, "secrets/team/obs-agent-tls", "tls.crt"))
            let agentTrust = try #require(Self.field(fake, "secrets/team/obs-agent-tls", "ca.crt"))
            let day = Int(now.timeIntervalSince(start) / 86400)
            #expect(await PKI.verify(leafPEM: agentCert, bundlePEM: PKI.certificates(inBundle: gatewayTrust), at: now) == nil, "day \(day): the gateway would refuse the agents")
            #expect(await PKI.verify(leafPEM: gatewayCert, bundlePEM: PKI.certificates(inBundle: agentTrust), at: now) == nil, "day \(day): the agents would refuse the gateway")
            // The agents read their bundle at start: the DaemonSet carries its hash, so a
            // new bundle rolls them.
            let ds = try #require(fake.objects.withLock { $0["daemonsets/team/obs-collector"] })
            let hash = ds.object["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.trustBundleHash]?.stringValue
            #expect(hash == sha256Hex(Array(agentTrust.utf8)), "day \(day)")
            bundleHashes.insert(hash ?? "")
            caCounts.insert(PKI.certificates(inBundle: agentTrust).count)
            issuers.insert(fake.objects.withLock { $0["secrets/team/obs-agent-tls"] }?.metadata.annotations?[Annotations.issuerSerial] ?? "")
            guard case .requeueAfter(let d) = result else {
                Issue.record("a stack with certificates schedules its next deadline")
                return
            }
            clock.withLock { $0 = $0.addingTimeInterval(d + 1) }
        }
        // The CA rolled over; both ends moved to the new one; the agents rolled for each bundle.
        #expect(issuers.count >= 2 && caCounts == [1, 2] && bundleHashes.count >= 3, "issuers \(issuers.count), CA counts \(caCounts), bundles \(bundleHashes.count)")
    }

    @Test func aRealTLSStackAcceptsOnlyTheStacksOwnAgents() async throws {
        let fake = FakeCluster()
        let clock = Mutex(Date())
        let (r, stacks) = make(fake, now: { clock.withLock { $0 } })
        stacks.upsert(stack())
        stacks.upsert(stack(name: "other"))
        _ = try await r.reconcile("team/obs")
        _ = try await r.reconcile("team/other")
        func f(_ stack: String, _ secret: String, _ key: String) throws -> String {
            try #require(Self.field(fake, "secrets/team/\(stack)-\(secret)", key))
        }
        let host = StackNames(stack: "obs", namespace: "team").gatewayHost
        func handshake(client stack: String?, name: String = host) async throws -> (server: String, client: String) {
            try await tlsHandshake(
                serverCertificate: f("obs", "gateway-tls", "tls.crt"), serverKey: f("obs", "gateway-tls", "tls.key"), serverTrust: f("obs", "gateway-tls", "ca.crt"),
                clientCertificate: try stack.map { try f($0, "agent-tls", "tls.crt") }, clientKey: try stack.map { try f($0, "agent-tls", "tls.key") },
                clientTrust: f("obs", "agent-tls", "ca.crt"), serverName: name
            )
        }
        let own = try await handshake(client: "obs")
        #expect(own.server == "ok" && own.client == "ok", "\(own)")
        // Without a certificate, or with another stack's agents' certificate: refused.
        let none = try await handshake(client: nil)
        #expect(none.server.hasPrefix("refused"), "\(none)")
        let foreign = try await handshake(client: "other")
        #expect(foreign.server.hasPrefix("refused"), "\(foreign)")
        // The agents check the gateway's name.
        let misnamed = try await handshake(client: "obs", name: "someone-else.team.svc.cluster.local")
        #expect(misnamed.client.hasPrefix("refused"), "\(misnamed)")
        // The roles are in the certificates, for openssl too.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gw-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for (file, text) in [("ca.crt", try f("obs", "agent-tls", "ca.crt")), ("agent.crt", try f("obs", "agent-tls", "tls.crt")), ("gateway.crt", try f("obs", "gateway-tls", "tls.crt"))] {
            try text.write(to: dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
        }
        let ca = dir.appendingPathComponent("ca.crt").path
        #expect(try await runTool(["openssl", "verify", "-CAfile", ca, "-purpose", "sslclient", dir.appendingPathComponent("agent.crt").path]).status == 0)
        #expect(try await runTool(["openssl", "verify", "-CAfile", ca, "-purpose", "sslserver", dir.appendingPathComponent("gateway.crt").path]).status == 0)
        #expect(try await runTool(["openssl", "verify", "-CAfile", ca, "-purpose", "sslserver", dir.appendingPathComponent("agent.crt").path]).status != 0)
    }

    @Test func withIngestTLSOffTheGatewayHopStillHasItsCA() async throws {
        let fake = FakeCluster()
        let clock = Mutex(Date(timeIntervalSince1970: 1_800_000_000))
        let (r, stacks) = make(fake, now: { clock.withLock { $0 } })
        var s = stack()
        s.spec.ingest = IngestSpec(tls: TLSSpec(mode: "Disabled"), basicAuth: BasicAuthSpec(enabled: false))
        stacks.upsert(s)
        _ = try await r.reconcile("team/obs")
        _ = try await r.reconcile("team/obs")
        let keys = fake.objects.withLock { Set($0.keys) }
        #expect(keys.contains("secrets/team/obs-ca") && keys.contains("secrets/team/obs-gateway-tls") && keys.contains("secrets/team/obs-agent-tls"))
        #expect(!keys.contains("secrets/team/obs-ingest-tls"))
        // The ingest stays plain text; the hop to the gateway does not.
        let config = try #require(fake.objects.withLock { $0["configmaps/team/obs-collector"] }?.object["data"]?["config.yaml"]?.stringValue)
        #expect(!config.contains("/etc/vigil/tls/") && config.contains("/etc/vigil/agent-tls/tls.crt"))
        let agentCert = try #require(Self.field(fake, "secrets/team/obs-agent-tls", "tls.crt"))
        let trust = try #require(Self.field(fake, "secrets/team/obs-gateway-tls", "ca.crt"))
        #expect(await PKI.verify(leafPEM: agentCert, bundlePEM: PKI.certificates(inBundle: trust), at: clock.withLock { $0 }) == nil)
        let status = stacks.get("team/obs")?.status
        #expect(status?.condition("CertificateReady")?.isTrue == true)
    }
}
