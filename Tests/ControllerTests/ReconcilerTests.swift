import Controller
import KubeClient
import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import Testing

@Suite struct ReconcilerTests {
    let logger = Logger(label: "test")

    /// Every namespace accepts the stack `team/obs` unless `accepted` says otherwise.
    func make(
        _ fake: FakeCluster, monitoringKinds: Set<String> = [], nodes: @escaping @Sendable () -> [String] = { ["10.0.0.1"] },
        accepted: @escaping @Sendable (String) -> Set<String>? = { _ in ["team/obs"] }
    ) -> (StackReconciler, Store<ObservabilityStack>, Store<Unstructured>) {
        let stacks = Store<ObservabilityStack>()
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        let cms = owned.first { $0.resource == ConfigMap.resource }!.store
        let r = StackReconciler(
            stacks: stacks, owned: owned, writer: fake,
            events: EventRecorder(writer: fake, logger: logger), now: { Date(timeIntervalSince1970: 1_800_000_000) },
            monitoringKinds: { monitoringKinds }, nodeAddresses: nodes, acceptedStacks: accepted, logger: logger
        )
        return (r, stacks, cms)
    }

    func stack(_ env: Environment = .production, generation: Int = 1, _ edit: (inout StackSpec) -> Void = { _ in }) -> ObservabilityStack {
        var spec = StackSpec(environment: env, exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317")))
        // The agents alone (the gateway's own tests say so when they want one).
        spec.collector = CollectorSpec(gateway: GatewaySpec(replicas: 0))
        edit(&spec)
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        s.metadata.uid = "uid-1"
        s.metadata.generation = generation
        s.metadata.resourceVersion = "1"
        return s
    }

    @Test func aNewStackGetsItsConfigMapAndReadyStatusThenSteadyStateWritesNothing() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake)
        stacks.upsert(stack())
        guard case .requeueAfter(let d) = try await r.reconcile("team/obs") else {
            Issue.record("a stack with certificates schedules its next look")
            return
        }
        // Credentials rotate 30 days in, and the leaf renews 60 days into its 90: the
        // sooner is the next deadline.
        #expect(abs(d - 30 * 86400) < 600)
        // Credentials and htpasswd, CA and serving Secrets, ServiceAccount and its RoleBinding (k8sattributes), ConfigMap, Service and headless Service,
        // DaemonSet, NetworkPolicy, and monitoring: Prometheus ConfigMap, Alertmanager Secret, two Grafana ConfigMaps.
        #expect(fake.counts.withLock { $0 } == .init(applies: 15, statusWrites: 1, deletes: 0, events: 2))
        let s = try #require(stacks.get("team/obs"))
        #expect(s.status?.condition("Ready")?.isTrue == true)
        #expect(s.status?.condition("ConfigValid")?.isTrue == true)
        #expect(s.status?.observedGeneration == 1)
        #expect(s.status?.endpoints?.grpc == "https://obs-collector.team.svc:4317")
        for _ in 0..<3 { _ = try await r.reconcile("team/obs") }
        #expect(fake.counts.withLock { $0 } == .init(applies: 15, statusWrites: 1, deletes: 0, events: 2))
        #expect(s.status?.condition("CertificateReady")?.isTrue == true)
        #expect(s.status?.certificate?.caPhase == "Stable")
        #expect(s.status?.certificate?.serial?.isEmpty == false)
    }

    /// With the Prometheus Operator's kinds served, the rules go into a PrometheusRule (not
    /// cached: read by name) and a steady state still writes nothing.
    @Test func prometheusRulesAreAppliedOnceAndThenLeftAlone() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake, monitoringKinds: ["prometheusrules", "servicemonitors"])
        stacks.upsert(stack())
        _ = try await r.reconcile("team/obs")
        let keys = fake.appliedKeys.withLock { $0 }
        #expect(keys.contains("prometheusrules/team/obs-alerts") && keys.contains("servicemonitors/team/obs-collector"))
        #expect(!keys.contains("configmaps/team/obs-prometheus"))
        let applies = fake.counts.withLock { $0.applies }
        let reads = fake.objectReads.withLock { $0 }
        for _ in 0..<3 { _ = try await r.reconcile("team/obs") }
        #expect(fake.counts.withLock { $0.applies } == applies)
        #expect(fake.objectReads.withLock { $0 } == reads + 6)
        // Edited by hand: put back.
        fake.objects.withLock { $0["prometheusrules/team/obs-alerts"]?.object["spec"] = ["groups": []] }
        _ = try await r.reconcile("team/obs")
        #expect(fake.counts.withLock { $0.applies } == applies + 1)
    }

    @Test func aHandEditedConfigMapIsReapplied() async throws {
        let fake = FakeCluster()
        let (r, stacks, cms) = make(fake)
        stacks.upsert(stack())
        _ = try await r.reconcile("team/obs")
        var live = try #require(cms.get("team/obs-collector"))
        guard case .object(var o) = live.object else { return }
        o["data"] = ["config.yaml": "tampered"]
        live = try Unstructured(object: .object(o))
        cms.remove("team/obs-collector")
        cms.upsert(live)
        _ = try await r.reconcile("team/obs")
        #expect(fake.counts.withLock { $0.applies } == 16)
    }

    @Test func aSpecEditReappliesAndMovesObservedGeneration() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake)
        stacks.upsert(stack())
        _ = try await r.reconcile("team/obs")
        var edited = stack(generation: 2) { $0.sampling = SamplingSpec(percentage: 42) }
        edited.status = stacks.get("team/obs")?.status
        edited.metadata.resourceVersion = "9000000000"
        stacks.upsert(edited)
        _ = try await r.reconcile("team/obs")
        // The ConfigMap and the DaemonSet, whose pod template carries the config hash.
        #expect(fake.counts.withLock { $0.applies } == 17)
        let s = try #require(stacks.get("team/obs"))
        #expect(s.status?.observedGeneration == 2)
        #expect(s.status?.condition("Ready")?.lastTransitionTime == "2027-01-15T08:00:00Z")
    }

    @Test func anInvalidSpecSetsConfigValidFalseOnceAndTouchesNothing() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake)
        stacks.upsert(stack { $0.collector = CollectorSpec(memoryLimiter: MemoryLimiterSpec(limitMiB: 100, spikeLimitMiB: 200)) })
        let result = try await r.reconcile("team/obs")
        guard case .terminal(let message) = result else { Issue.record("expected a terminal result"); return }
        #expect(message.contains("spec.collector.memoryLimiter.spikeLimitMiB"))
        let s = try #require(stacks.get("team/obs"))
        #expect(s.status?.condition("ConfigValid")?.status == "False")
        #expect(s.status?.condition("ConfigValid")?.message.contains("spikeLimitMiB") == true)
        #expect(s.status?.condition("Ready")?.status == "False")
        _ = try await r.reconcile("team/obs")
        #expect(fake.counts.withLock { $0 } == .init(applies: 0, statusWrites: 1, deletes: 0, events: 1))
        #expect(fake.eventReasons.withLock { $0 } == ["InvalidSpec"])
    }

    @Test func theHealthPortTakesItsPeersFromTheNodesAndIsOpenWithAWarningWithoutThem() async throws {
        let fake = FakeCluster()
        let nodes = Mutex<[String]>([])
        let (r, stacks, _) = make(fake, nodes: { nodes.withLock { $0 } })
        stacks.upsert(stack())
        func healthRule() throws -> JSONValue? {
            let policy = try #require(fake.objects.withLock { $0["networkpolicies/team/obs-collector"] })
            return policy.object["spec"]?["ingress"]?.arrayValue?.first { $0["ports"]?.arrayValue?.first?["port"] == .int(CollectorPorts.health) }
        }
        _ = try await r.reconcile("team/obs")
        // No node known: the port is open, and the status and an event say so.
        #expect(try healthRule()?["from"] == nil)
        let open = try #require(stacks.get("team/obs")?.status?.condition("NetworkPolicyReady"))
        #expect(open.reason == "HealthPortOpen" && open.message.contains("13133") && open.message.contains("nodeCIDRs"))
        #expect(fake.eventReasons.withLock { $0 }.contains("HealthPortOpen"))

        // A node appears: its address is the only peer, and the warning goes.
        nodes.withLock { $0 = ["172.18.0.2"] }
        _ = try await r.reconcile("team/obs")
        #expect(try healthRule()?["from"] == [["ipBlock": ["cidr": "172.18.0.2/32"]]])
        #expect(stacks.get("team/obs")?.status?.condition("NetworkPolicyReady")?.reason == "Applied")
    }

    @Test func anOwnedObjectNoLongerDesiredIsPruned() async throws {
        let fake = FakeCluster()
        let (r, stacks, cms) = make(fake)
        stacks.upsert(stack())
        _ = try await r.reconcile("team/obs")
        cms.upsert(
            try Unstructured(object: [
                "metadata": [
                    "name": "obs-old", "namespace": "team", "resourceVersion": "5",
                    "ownerReferences": [["apiVersion": "observability.vigil.dev/v1alpha1", "kind": "ObservabilityStack", "name": "obs", "uid": "uid-1", "controller": true]],
                ]
            ])
        )
        // An object owned by another stack is left alone.
        cms.upsert(
            try Unstructured(object: [
                "metadata": [
                    "name": "other", "namespace": "team", "resourceVersion": "6",
                    "ownerReferences": [["apiVersion": "observability.vigil.dev/v1alpha1", "kind": "ObservabilityStack", "name": "x", "uid": "uid-2", "controller": true]],
                ]
            ])
        )
        _ = try await r.reconcile("team/obs")
        #expect(fake.counts.withLock { $0.deletes } == 1)
        #expect(cms.get("team/obs-old") == nil)
        #expect(cms.get("team/other") != nil)
    }

    @Test func theServingCertificateChainsToTheBundleAndAForcedRotationKeepsTheCA() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake)
        stacks.upsert(stack())
        _ = try await r.reconcile("team/obs")
        func secret(_ name: String) -> Unstructured? { fake.objects.withLock { $0["secrets/team/\(name)"] } }
        func field(_ s: Unstructured?, _ k: String) -> String {
            String(decoding: Data(base64Encoded: s?.object["data"]?[k]?.stringValue ?? "") ?? Data(), as: UTF8.self)
        }
        let tls = try #require(secret("obs-ingest-tls"))
        #expect(tls.object["type"] == "kubernetes.io/tls")
        #expect(await PKI.verify(leafPEM: field(tls, "tls.crt"), bundlePEM: [field(tls, "ca.crt")], at: Date(timeIntervalSince1970: 1_800_000_000)) == nil)
        let sans = try PKI.subjectAlternativeNames(certificatePEM: field(tls, "tls.crt"))
        #expect(Set(sans.dns) == ["obs-collector", "obs-collector.team", "obs-collector.team.svc", "obs-collector.team.svc.cluster.local"])
        let caBefore = field(secret("obs-ca"), "tls.crt")
        let serialBefore = stacks.get("team/obs")?.status?.certificate?.serial

        // Feed the applied Secrets back as the informer would, then force a rotation.
        var forced = try #require(stacks.get("team/obs"))
        forced.metadata.annotations = [Annotations.rotateCertificate: "now-1"]
        let secretsStore = Store<Unstructured>()
        for name in ["obs-ca", "obs-ingest-tls"] { secretsStore.upsert(try #require(secret(name))) }
        let outcome = try CertificateReconciler(secrets: secretsStore).reconcile(StackContext(forced), now: Date(timeIntervalSince1970: 1_800_086_400))
        #expect(outcome.status.serial != serialBefore)
        let newCA = try outcome.objects(StackContext(forced)).first { $0.name == "obs-ca" }?.body["data"]?["tls.crt"]?.stringValue
        #expect(newCA == .some(Data(caBefore.utf8).base64EncodedString()))
        #expect(outcome.event?.contains("ForcedRotation") == true)
        // Handled once: the same token does not rotate again.
        let again = Store<Unstructured>()
        for o in try outcome.objects(StackContext(forced)) { again.upsert(try Unstructured(object: o.body)) }
        let second = try CertificateReconciler(secrets: again).reconcile(StackContext(forced), now: Date(timeIntervalSince1970: 1_800_090_000))
        #expect(second.event == nil)
        #expect(second.status.serial == outcome.status.serial)
        // Status and events never carry key material.
        #expect(!"\(second.status)".contains("PRIVATE") && !(outcome.event ?? "").contains("PRIVATE"))
    }

    @Test func aMissingOrBrokenUserSecretSetsCertificateReadyFalseAndTouchesNothing() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake)
        stacks.upsert(stack { $0.ingest = IngestSpec(tls: TLSSpec(mode: "Secret", secretName: "mine")) })
        #expect(try await r.reconcile("team/obs") == .requeueAfter(30))
        var s = try #require(stacks.get("team/obs"))
        #expect(s.status?.condition("CertificateReady")?.reason == "SecretNotFound")
        #expect(fake.counts.withLock { $0.applies } == 0)

        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let ca = try PKI.issueCA(commonName: "user CA", now: now, duration: 365 * 86400)
        let a = try PKI.issueLeaf(ca: ca, commonName: "a", dnsNames: ["a"], ipAddresses: [], usage: .server, now: now, duration: 30 * 86400)
        let b = try PKI.issueLeaf(ca: ca, commonName: "b", dnsNames: ["b"], ipAddresses: [], usage: .server, now: now, duration: 30 * 86400)
        func put(_ cert: String, _ key: String) {
            let data = ["tls.crt": Data(cert.utf8).base64EncodedString(), "tls.key": Data(key.utf8).base64EncodedString()]
            fake.userSecrets.withLock { $0["team/mine"] = Secret(metadata: ObjectMeta(name: "mine", namespace: "team"), type: "kubernetes.io/tls", data: data) }
        }
        put(a.certificatePEM, b.privateKeyPEM)
        _ = try await r.reconcile("team/obs")
        s = try #require(stacks.get("team/obs"))
        #expect(s.status?.condition("CertificateReady")?.reason == "InvalidSecret")
        #expect(s.status?.condition("CertificateReady")?.message.contains("does not match") == true)
        #expect(fake.counts.withLock { $0.applies } == 0)

        put(a.certificatePEM, a.privateKeyPEM)
        _ = try await r.reconcile("team/obs")
        s = try #require(stacks.get("team/obs"))
        #expect(s.status?.condition("CertificateReady")?.isTrue == true)
        #expect(s.status?.certificate?.serial == a.serial)
        #expect(s.status?.condition("Ready")?.isTrue == true)
        // Credentials, htpasswd, the workloads and their RoleBinding, the NetworkPolicy and monitoring: the user's Secret is theirs, Vigil makes no certificate Secrets.
        #expect(fake.counts.withLock { $0.applies } == 13)
    }

    @Test func eachClientGetsAPasswordWhoseHashIsMadeOnceAndTheCollectorRollsWhenClientsChange() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake)
        func withClients(_ names: [String], generation: Int) -> ObservabilityStack {
            var s = stack(generation: generation) { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: names.map { ClientRef(name: $0, namespace: "ns-\($0)") })) }
            s.metadata.resourceVersion = String(9_000_000_000 + generation * 1000)
            s.status = stacks.get("team/obs")?.status
            return s
        }
        func secret(_ name: String) -> Unstructured? { fake.objects.withLock { $0["secrets/team/\(name)"] } }
        func field(_ s: Unstructured?, _ k: String) -> String? {
            s?.secretString(k)
        }
        func dsHash() -> JSONValue? {
            fake.objects.withLock { $0["daemonsets/team/obs-collector"] }?.object["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.configHash]
        }
        stacks.upsert(withClients(["api", "worker"], generation: 1))
        _ = try await r.reconcile("team/obs")
        #expect(stacks.get("team/obs")?.status?.condition("CredentialsReady")?.reason == "WaitingForRollout")
        // The DaemonSet reports the rollout (at once here): the clients get their Secrets.
        _ = try await r.reconcile("team/obs")
        let file = try #require(field(secret("obs-htpasswd"), "htpasswd"))
        let lines = file.split(separator: "\n").map(String.init)
        #expect(lines.map { $0.split(separator: ":").first.map(String.init) ?? "" } == ["api-g1", "worker-g1"])
        for (client, line) in zip(["api", "worker"], lines) {
            let password = try #require(field(secret("obs-credentials"), "g1.\(client)"))
            #expect(Htpasswd.verify(password, hash: String(line.split(separator: ":", maxSplits: 1)[1])))
        }
        let s1 = try #require(stacks.get("team/obs"))
        #expect(s1.status?.condition("CredentialsReady")?.isTrue == true)
        #expect(s1.status?.credentials?.generation == 1)
        #expect(!"\(s1.status as Any)".contains(field(secret("obs-credentials"), "g1.api") ?? "unlikely"))
        let hash1 = dsHash()

        // Converged: the same file, no new hash.
        let applies = fake.counts.withLock { $0.applies }
        _ = try await r.reconcile("team/obs")
        #expect(fake.counts.withLock { $0.applies } == applies, "re-applied: \(fake.appliedKeys.withLock { $0.suffix(3) })")
        #expect(field(secret("obs-htpasswd"), "htpasswd") == file)

        // A hand edit of the htpasswd file is undone.
        let hand = try Unstructured(object: ["metadata": ["name": "obs-htpasswd", "namespace": "team", "resourceVersion": "99999999999",
            "annotations": .object(secret("obs-htpasswd")?.object["metadata"]?["annotations"]?.objectValue ?? [:]),
            "ownerReferences": secret("obs-htpasswd")?.object["metadata"]?["ownerReferences"] ?? []],
            "data": ["htpasswd": .string(Data("api-g1:plaintext\n".utf8).base64EncodedString())]])
        fake.objects.withLock { $0["secrets/team/obs-htpasswd"] = hand }
        // Feed it to the reconciler's cache as the informer would.
        r.testUpsert(hand)
        _ = try await r.reconcile("team/obs")
        #expect(field(secret("obs-htpasswd"), "htpasswd") == file)

        // A client removed: its line goes, the others stay, and the collector rolls.
        stacks.upsert(withClients(["api"], generation: 2))
        _ = try await r.reconcile("team/obs")
        let after = try #require(field(secret("obs-htpasswd"), "htpasswd"))
        #expect(after == lines[0] + "\n")
        #expect(field(secret("obs-credentials"), "g1.worker") == nil)
        #expect(dsHash() != hash1)
    }

    @Test func clientSecretsCarryAWorkingHeaderAndTheBundleAndGoAwayWithTheStack() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake)
        var s0 = stack { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "apps"), ClientRef(name: "ghost", namespace: "gone")])) }
        s0.metadata.resourceVersion = "9000000000"
        fake.missingNamespaces.withLock { $0 = ["gone"] }
        stacks.upsert(s0)
        // The first pass makes the htpasswd file and rolls the collector; the client
        // Secrets follow once the DaemonSet reports the rollout (at once here).
        _ = try await r.reconcile("team/obs")
        #expect(fake.objects.withLock { $0["secrets/apps/team.obs-otlp-client"] } == nil)
        #expect(try await r.reconcile("team/obs") == .requeueAfter(30))
        func decoded(_ key: String, _ field: String) -> String? {
            fake.objects.withLock { $0[key] }?.secretString(field)
        }
        let client = "secrets/apps/team.obs-otlp-client"
        #expect(decoded(client, "OTEL_EXPORTER_OTLP_ENDPOINT") == "https://obs-collector.team.svc:4317")
        #expect(decoded(client, "OTEL_EXPORTER_OTLP_PROTOCOL") == "grpc")
        #expect(decoded(client, "ca.crt") == decoded("secrets/team/obs-ingest-tls", "ca.crt"))
        #expect(decoded(client, "OTEL_EXPORTER_OTLP_CERTIFICATE") == ClientSecret.certificatePath)
        let header = try #require(decoded(client, "OTEL_EXPORTER_OTLP_HEADERS"))
        #expect(header.hasPrefix("Authorization=Basic%20"))
        let userPass = String(decoding: Data(base64Encoded: String((header.removingPercentEncoding ?? header).dropFirst("Authorization=Basic ".count))) ?? Data(), as: UTF8.self)
        let parts = userPass.split(separator: ":", maxSplits: 1).map(String.init)
        #expect(parts.first == "api-g1")
        let line = try #require(decoded("secrets/team/obs-htpasswd", "htpasswd")?.split(separator: "\n").first { $0.hasPrefix("api-g1:") })
        #expect(Htpasswd.verify(parts[1], hash: String(line.split(separator: ":", maxSplits: 1)[1])))
        let st = try #require(stacks.get("team/obs"))
        #expect(st.status?.condition("CredentialsReady")?.status == "False")
        #expect(st.status?.condition("CredentialsReady")?.message.contains("gone") == true)
        #expect(st.metadata.finalizers == [Annotations.clientSecretsFinalizer])
        #expect(!"\(st.status as Any)".contains(parts[1]))

        // Deleting the stack removes the client Secret and the agents' RoleBinding in the
        // client's namespace, then the finalizer.
        var deleting = st
        deleting.metadata.deletionTimestamp = "2027-01-15T09:00:00Z"
        deleting.metadata.resourceVersion = "99000000000"
        stacks.upsert(deleting)
        let deletes = fake.counts.withLock { $0.deletes }
        #expect(try await r.reconcile("team/obs") == .done)
        #expect(fake.counts.withLock { $0.deletes } == deletes + 2)
        #expect(stacks.get("team/obs")?.metadata.finalizers == nil)
    }

    @Test func clientsOutsideTheWatchedNamespaceAreNotPublished() async throws {
        let fake = FakeCluster()
        let stacks = Store<ObservabilityStack>()
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        let r = StackReconciler(
            stacks: stacks, owned: owned, writer: fake, events: EventRecorder(writer: fake, logger: logger),
            now: { Date(timeIntervalSince1970: 1_800_000_000) }, watchNamespace: "team", logger: logger
        )
        stacks.upsert(stack { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "here", namespace: "team"), ClientRef(name: "there", namespace: "apps")])) })
        _ = try await r.reconcile("team/obs")
        _ = try await r.reconcile("team/obs")
        #expect(fake.objects.withLock { $0["secrets/team/team.obs-otlp-client"] } != nil)
        #expect(fake.objects.withLock { $0["secrets/apps/team.obs-otlp-client"] } == nil)
        let c = stacks.get("team/obs")?.status?.condition("CredentialsReady")
        #expect(c?.status == "False" && c?.reason == "NamespaceNotWatched" && c?.message.contains("apps") == true)
        // And it stays quiet: nothing is applied again.
        let applies = fake.counts.withLock { $0.applies }
        _ = try await r.reconcile("team/obs")
        #expect(fake.counts.withLock { $0.applies } == applies)
    }

    @Test func aMissingBackendSecretOrKeyIsNamedAndAChangedOneRollsTheCollector() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake)
        stacks.upsert(stack { $0.exporters?.loki = LokiExporterSpec(endpoint: "https://loki/otlp", credentialsSecret: CredentialsRef(name: "loki-creds")) })
        // Missing: refused, naming the Secret and the field, and nothing is applied.
        #expect(try await r.reconcile("team/obs") == .terminal("Secret loki-creds named by spec.exporters.loki.credentialsSecret does not exist in namespace team"))
        #expect(fake.counts.withLock { $0.applies } == 0)
        var c = stacks.get("team/obs")?.status?.condition("ConfigValid")
        #expect(c?.status == "False" && c?.reason == "SecretNotFound")
        // A key missing.
        func put(_ data: [String: String]) {
            let encoded = data.mapValues { Data($0.utf8).base64EncodedString() }
            fake.userSecrets.withLock { $0["team/loki-creds"] = Secret(metadata: ObjectMeta(name: "loki-creds", namespace: "team"), data: encoded) }
        }
        put(["username": "u"])
        _ = try await r.reconcile("team/obs")
        c = stacks.get("team/obs")?.status?.condition("ConfigValid")
        #expect(c?.reason == "SecretKeyNotFound" && c?.message.contains("no key password") == true)
        // Present: applied. Changed: the pod template changes, so the collector rolls.
        put(["username": "u", "password": "one"])
        _ = try await r.reconcile("team/obs")
        #expect(stacks.get("team/obs")?.status?.condition("Ready")?.isTrue == true)
        func dsHash() -> JSONValue? {
            fake.objects.withLock { $0["daemonsets/team/obs-collector"] }?.object["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.configHash]
        }
        let before = try #require(dsHash())
        _ = try await r.reconcile("team/obs")
        #expect(dsHash() == before)
        put(["username": "u", "password": "two"])
        _ = try await r.reconcile("team/obs")
        #expect(dsHash() != before)
        // The value itself is in no status or event.
        let statusText = "\(stacks.get("team/obs")?.status as Any)"
        #expect(!statusText.contains("password") && !statusText.contains("\"two\""))
    }

    @Test func aRepeatedEventCountsOnTheFirstAsKubectlShowsIt() async throws {
        let fake = FakeCluster()
        let events = EventRecorder(writer: fake, logger: logger)
        let s = stack()
        for _ in 0..<3 { await events.record(s, type: .warning, reason: "InvalidSpec", message: "spec.x: bad") }
        await events.record(s, type: .warning, reason: "InvalidSpec", message: "spec.y: bad")
        #expect(fake.counts.withLock { $0.events } == 2)
        #expect(fake.bumps.withLock { $0.values.sorted() } == [3])
    }

    @Test func aMissingStackIsDone() async throws {
        let fake = FakeCluster()
        let (r, _, _) = make(fake)
        #expect(try await r.reconcile("team/nothing") == .done)
        #expect(fake.counts.withLock { $0 } == .init())
    }

    /// A workload created by a version that selected pods by `app.kubernetes.io/instance`
    /// keeps that selector (it cannot change); its pods, Services and NetworkPolicy follow
    /// it, and every object gains Vigil's own label. A new workload uses Vigil's own.
    @Test func aWorkloadWithTheLegacySelectorKeepsItAndEverythingThatSelectsItsPodsFollows() async throws {
        let fake = FakeCluster()
        let (r, stacks, _) = make(fake)
        // A client: its finalizer is set in the same reconcile, which must not lose the selector.
        stacks.upsert(stack {
            $0.collector = CollectorSpec(gateway: GatewaySpec(replicas: 2))
            $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "team")]))
        })
        let legacy: JSONValue = ["app.kubernetes.io/instance": "obs", "app.kubernetes.io/component": "agent"]
        let live = try Unstructured(object: [
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": [
                "name": "obs-collector", "namespace": "team", "resourceVersion": "5", "generation": 1,
                "ownerReferences": [["apiVersion": "observability.vigil.dev/v1alpha1", "kind": "ObservabilityStack", "name": "obs", "uid": "uid-1", "controller": true]],
            ],
            "spec": ["selector": ["matchLabels": legacy], "template": ["metadata": ["labels": legacy]]],
        ])
        r.testUpsert(live, kind: Kinds.daemonSet)
        _ = try await r.reconcile("team/obs")
        let objects = fake.objects.withLock { $0 }
        let ds = try #require(objects["daemonsets/team/obs-collector"])
        #expect(ds.object["spec"]?["selector"]?["matchLabels"] == legacy)
        let podLabels = ds.object["spec"]?["template"]?["metadata"]?["labels"]
        #expect(podLabels?["app.kubernetes.io/instance"] == "obs" && podLabels?["observability.vigil.dev/stack"] == "obs")
        #expect(ds.metadata.labels?["app.kubernetes.io/instance"] == nil && ds.metadata.labels?["observability.vigil.dev/stack"] == "obs")
        let service = try #require(objects["services/team/obs-collector"])
        #expect(service.object["spec"]?["selector"] == legacy)
        let policy = try #require(objects["networkpolicies/team/obs-collector"])
        #expect(policy.object["spec"]?["podSelector"]?["matchLabels"] == legacy)
        // The gateway's Deployment is new: Vigil's own selector.
        let gateway = try #require(objects["deployments/team/obs-gateway"])
        #expect(gateway.object["spec"]?["selector"]?["matchLabels"] == ["observability.vigil.dev/stack": "obs", "app.kubernetes.io/component": "gateway"])
    }
}
