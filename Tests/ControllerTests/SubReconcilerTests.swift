@testable import Controller
import Foundation
import KubeClient
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import Testing

/// Each sub-reconciler on its own, against the in-memory fake.
@Suite struct SubReconcilerTests {
    let logger = Logger(label: "test")
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func stack(_ env: Environment = .production, _ edit: (inout StackSpec) -> Void = { _ in }) -> ObservabilityStack {
        var spec = StackSpec(environment: env, exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317")))
        edit(&spec)
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        s.metadata.uid = "uid-1"
        s.metadata.generation = 1
        return s
    }

    func owned() -> [OwnedKind] { Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) } }

    /// The collector's DaemonSet of `stack()`, with a status as its controller writes it.
    func daemonSet(generation: Int, status: JSONValue, rv: Int = 100) throws -> Unstructured {
        try Unstructured(object: [
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": ["name": "obs-collector", "namespace": "team", "uid": "ds-uid", "generation": .int(generation), "resourceVersion": .string(String(rv))],
            "status": status,
        ])
    }

    // MARK: Gate

    @Test func theGateResolvesAValidStackOnceAndReadsNothingItDoesNotNeed() async throws {
        let fake = FakeCluster()
        let result = try await Gate(writer: fake).admit(stack(), now: now)
        let admitted = try result.get()
        #expect(admitted.ctx.spec.tlsMode == .selfSigned && admitted.ctx.spec.clientAuth == .optional)
        #expect(admitted.referenced.isEmpty && admitted.userCertificate == nil)
        #expect(fake.counts.withLock { $0 } == FakeCluster.Counts())
    }

    @Test func theGateRefusesAnInvalidSpecWithEveryFieldNamed() async throws {
        let fake = FakeCluster()
        let bad = stack { $0.ingest = IngestSpec(tls: TLSSpec(mode: "Sometimes", clientAuth: "Maybe")) }
        guard case .failure(let rejected) = try await Gate(writer: fake).admit(bad, now: now) else {
            Issue.record("an invalid spec was admitted")
            return
        }
        #expect(rejected.refusal.reason == "InvalidSpec")
        #expect(rejected.refusal.message.contains("spec.ingest.tls.mode") && rejected.refusal.message.contains("spec.ingest.tls.clientAuth"))
    }

    @Test func theGateRefusesAMissingReferencedSecretAndNamesTheField() async throws {
        let fake = FakeCluster()
        let s = stack { $0.exporters?.tempo?.bearerTokenSecret = SecretKeyRef(name: "tempo-token", key: "token") }
        guard case .failure(let rejected) = try await Gate(writer: fake).admit(s, now: now) else {
            Issue.record("a stack with a missing Secret was admitted")
            return
        }
        #expect(rejected.refusal.reason == "SecretNotFound")
        #expect(rejected.refusal.message.contains("spec.exporters.tempo.bearerTokenSecret"))
        fake.userSecrets.withLock {
            $0["team/tempo-token"] = Secret(metadata: ObjectMeta(name: "tempo-token", namespace: "team"), data: ["token": Data("t".utf8).base64EncodedString()])
        }
        let admitted = try #require(try? await Gate(writer: fake).admit(s, now: now).get())
        #expect(admitted.referenced.count == 1 && !admitted.referenced[0].contains("\"t\""))
    }

    // MARK: World

    @Test func theWorldHoldsOnlyObjectsThisStackControls() async throws {
        let kinds = owned()
        let configMaps = try #require(kinds.first { $0.resource == ConfigMap.resource }).store
        func cm(_ name: String, owner: String?) throws -> Unstructured {
            var meta: JSONObject = ["name": .string(name), "namespace": "team"]
            if let owner {
                meta["ownerReferences"] = [["apiVersion": "observability.vigil.dev/v1alpha1", "kind": "ObservabilityStack", "name": "obs", "uid": .string(owner), "controller": true]]
            }
            return try Unstructured(object: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": .object(meta)])
        }
        configMaps.upsert(try cm("obs-collector", owner: "uid-1"))
        configMaps.upsert(try cm("obs-prometheus", owner: "uid-other"))
        configMaps.upsert(try cm("obs-grafana-dashboards", owner: nil))
        let reader = WorldReader(owned: kinds, watchNamespace: "team", monitoringKinds: { ["prometheusrules"] }, nodeAddresses: { ["172.18.0.2"] })
        let s = stack { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "a", namespace: "team"), ClientRef(name: "b", namespace: "apps")])) }
        let world = reader.read(StackContext(s))
        #expect(Set(world.owned.keys) == ["configmaps/team/obs-collector"])
        #expect(world.writableClients.map(\.name) == ["a"] && world.unwatched == ["apps"])
        #expect(world.monitoringKinds == ["prometheusrules"])
        // Production has a NetworkPolicy: the health port's peers are the nodes'.
        #expect(world.nodeAddresses == ["172.18.0.2"])
        #expect(reader.read(StackContext(stack(.development))).nodeAddresses.isEmpty)
    }

    // MARK: Credentials

    @Test func credentialsUseTheInjectedEntropyAndPublishOnlyAfterTheRollout() throws {
        let secrets = Store<Unstructured>()
        let s = stack { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "apps")])) }
        let ctx = StackContext(s)
        let r = CredentialReconciler(secrets: secrets) { _ in Credential(password: "fixed-password", hash: "$2y$10$fixed") }
        let first = try r.reconcile(ctx, now: now, liveDaemonSet: nil, clientSecrets: ["api": Unstructured?.none])
        #expect(first.state.current("api")?.password == "fixed-password")
        #expect(first.publishable.isEmpty, "nothing is published before the collector runs the file")
        let material = first.material(ctx, clients: s.spec.ingest?.basicAuth?.clients ?? [])
        #expect(material.clientSecrets.isEmpty && material.htpasswd.contains("api-g1:$2y$10$fixed"))
        #expect(!"\(material)".contains("fixed-password"))
    }

    @Test(arguments: [Annotations.rotateCredentials, Annotations.legacyRotateCredentials])
    func aRotationRequestUnderEitherKeyStartsARotation(_ key: String) throws {
        let secrets = Store<Unstructured>()
        var s = stack { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "team")])) }
        let r = CredentialReconciler(secrets: secrets) { _ in Credential(password: "p", hash: "$2y$10$h") }
        let first = try r.reconcile(StackContext(s), now: now, liveDaemonSet: nil, clientSecrets: ["api": Unstructured?.none])
        let record = try DesiredState.credentialsRecord(StackContext(s), CredentialReconciler.material(first.state))
        secrets.upsert(try Unstructured(object: record.body))
        s.metadata.annotations = [key: "please"]
        let second = try r.reconcile(StackContext(s), now: now, liveDaemonSet: nil, clientSecrets: ["api": Unstructured?.none])
        #expect(second.state.phase == .rollingOut && second.state.handledRequest == "please")
        #expect(second.steps.map(\.reason).contains("CredentialRotationStarted"))
    }

    @Test func thePrefixedRotationKeyWinsOverTheLegacyOne() {
        #expect(Annotations.rotateCredentialsRequest([Annotations.legacyRotateCredentials: "old"]) == "old")
        #expect(Annotations.rotateCredentialsRequest([Annotations.legacyRotateCredentials: "old", Annotations.rotateCredentials: "new"]) == "new")
        #expect(Annotations.rotateCredentialsRequest(nil) == nil)
    }

    // MARK: Apply

    @Test func theApplierSkipsWhatMatchesAndRefusesWhatTheServerRejects() async throws {
        let fake = FakeCluster()
        let kinds = owned()
        let applier = Applier(owned: kinds, writer: fake)
        let ctx = StackContext(stack())
        let objects = try DesiredState.render(ctx).objects
        let world = World(owned: [:], clientSecrets: [:], writableClients: [], unwatched: [], daemonSet: nil, nodeAddresses: [], monitoringKinds: [])
        let first = try await applier.apply(ctx, objects, clientKeys: [:], world: world, log: logger).get()
        #expect(first.applied.count == objects.count)
        // The live objects now match: nothing is sent.
        var live: [String: Unstructured] = [:]
        for o in objects { live[o.key] = fake.objects.withLock { $0[o.key] } }
        let steady = World(owned: live, clientSecrets: [:], writableClients: [], unwatched: [], daemonSet: nil, nodeAddresses: [], monitoringKinds: [])
        let before = fake.counts.withLock { $0.applies }
        let again = try await applier.apply(ctx, objects, clientKeys: [:], world: steady, log: logger).get()
        #expect(again.applied.isEmpty)
        #expect(fake.counts.withLock { $0.applies } == before)
        // Not in the cache but live and the stack's (its owner reference): read, matched, not rewritten.
        let reread = try await applier.apply(ctx, objects, clientKeys: [:], world: world, log: logger).get()
        #expect(reread.applied.isEmpty && reread.conflicts.isEmpty)
        #expect(fake.counts.withLock { $0.applies } == before)
        // A 422 names the object and refuses the stack.
        let empty = FakeCluster()
        empty.beforeWriteHook.withLock { $0 = { throw KubeAPIError(code: 422, reason: "Invalid", message: "spec.x: bad") } }
        guard case .failure(let refusal) = try await Applier(owned: owned(), writer: empty).apply(ctx, objects, clientKeys: [:], world: world, log: logger) else {
            Issue.record("a refused object was not reported")
            return
        }
        #expect(refusal.reason == "ObjectRejected" && refusal.message.contains("spec.x: bad"))
    }

    // MARK: Status

    @Test func statusIsWrittenOnceAndARefusalRecordsOneEvent() async throws {
        let fake = FakeCluster()
        let stacks = Store<ObservabilityStack>()
        let kinds = owned()
        let writer = StatusWriter(stacks: stacks, owned: kinds, writer: fake, events: EventRecorder(writer: fake, logger: logger))
        var s = stack()
        stacks.upsert(s)
        let ctx = StackContext(s)
        var c = Contribution()
        c.conditions = [StackCondition(.credentialsReady, true, reason: "Issued", message: "ok")]
        c.requeueAfter = 42
        // Applied, but the DaemonSet controller has not reported the collector: not Ready.
        #expect(try await writer.write(ctx, c, configHash: "h", now: now, log: logger) == .requeueAfter(42))
        s = try #require(stacks.get("team/obs"))
        #expect(s.status?.condition(ConditionType.ready.rawValue)?.reason == "CollectorUnavailable")
        #expect(s.status?.condition(ConditionType.reconciling.rawValue)?.isTrue == true)
        // Reported, on a cluster where no node runs it: Ready, and CollectorAvailable says why not.
        store(kinds, Kinds.daemonSet)?.upsert(try daemonSet(generation: 1, status: ["observedGeneration": 1, "desiredNumberScheduled": 0]))
        _ = try await writer.write(StackContext(s), c, configHash: "h", now: now, log: logger)
        s = try #require(stacks.get("team/obs"))
        _ = try await writer.write(StackContext(s), c, configHash: "h", now: now, log: logger)
        #expect(fake.counts.withLock { $0.statusWrites } == 2)
        #expect(s.status?.condition(ConditionType.ready.rawValue)?.isTrue == true)
        #expect(s.status?.condition(ConditionType.collectorAvailable.rawValue)?.reason == "NoNodesScheduled")
        let refusal = Refusal(reason: "SecretNotFound", message: "Secret x named by spec.y does not exist", ready: "a referenced Secret is missing")
        #expect(try await writer.reject(StackContext(s), refusal, now: now, log: logger) == .terminal(refusal.message))
        let refused = try #require(stacks.get("team/obs"))
        _ = try await writer.reject(StackContext(refused), refusal, now: now, log: logger)
        #expect(fake.eventReasons.withLock { $0.filter { $0 == "SecretNotFound" }.count } == 1)
        #expect(refused.status?.condition(ConditionType.ready.rawValue)?.isTrue == false)
    }

    /// Ready waits for the collector to serve; pods refused by admission are named, from the
    /// DaemonSet controller's events and the gateway Deployment's ReplicaFailure condition.
    @Test func theCollectorsHealthDecidesReadyAndNamesRefusedPods() async throws {
        let fake = FakeCluster()
        let stacks = Store<ObservabilityStack>()
        let kinds = owned()
        let writer = StatusWriter(stacks: stacks, owned: kinds, writer: fake, events: EventRecorder(writer: fake, logger: logger))
        stacks.upsert(stack { $0.collector = CollectorSpec(gateway: GatewaySpec(replicas: 2)) })
        var rv = 200
        func write() async throws -> (ObservabilityStack, ReconcileResult) {
            let s = try #require(stacks.get("team/obs"))
            let hasGateway = StackContext(s).hasGateway
            #expect(hasGateway)
            let result = try await writer.write(StackContext(s), Contribution(), configHash: "h", now: now, log: logger)
            return (try #require(stacks.get("team/obs")), result)
        }
        func cond(_ s: ObservabilityStack, _ type: ConditionType) -> String {
            let c = s.status?.condition(type.rawValue)
            return "\(c?.status ?? "-")/\(c?.reason ?? "-")"
        }
        func setDaemonSet(_ status: JSONValue) throws {
            rv += 1
            store(kinds, Kinds.daemonSet)?.upsert(try daemonSet(generation: 1, status: status, rv: rv))
        }
        func setGateway(_ status: JSONValue) throws {
            rv += 1
            store(kinds, Kinds.deployment)?.upsert(try Unstructured(object: [
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": ["name": "obs-gateway", "namespace": "team", "generation": 1, "resourceVersion": .string(String(rv))],
                "spec": ["replicas": 2], "status": status,
            ]))
        }
        func refusal(ageSeconds: Double, uid: String = "ds-uid") -> Event {
            var e = Event(
                metadata: ObjectMeta(name: "obs-collector.1", namespace: "team"),
                involvedObject: ObjectReference(apiVersion: "apps/v1", kind: "DaemonSet", namespace: "team", name: "obs-collector", uid: uid),
                reason: "FailedCreate",
                message: #"Error creating: pods "obs-collector-x7k2p" is forbidden: unable to validate against any pod security policy: [spec.volumes[1]: Invalid value: "hostPath": hostPath volumes are not allowed to be used]"#,
                type: "Warning", component: "daemonset-controller", timestamp: now.addingTimeInterval(-ageSeconds).formatted(.iso8601))
            e.count = 4
            return e
        }

        // Two nodes, no pod created, and the controller's events say why.
        try setDaemonSet(["observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 0])
        fake.foreignEvents.withLock { $0 = [refusal(ageSeconds: 7200), refusal(ageSeconds: 30, uid: "an-older-daemonset")] }
        var (s, result) = try await write()
        // Only stale refusals, or another DaemonSet's: missing pods, reason not known yet.
        #expect(cond(s, .collectorAvailable) == "False/Progressing")
        #expect(cond(s, .ready) == "False/CollectorUnavailable" && cond(s, .stalled) == "False/Reconciled")
        #expect(result == .requeueAfter(10))
        fake.foreignEvents.withLock { $0.append(refusal(ageSeconds: 60)) }
        (s, result) = try await write()
        #expect(cond(s, .collectorAvailable) == "False/PodsRefused")
        let message = s.status?.condition(ConditionType.collectorAvailable.rawValue)?.message ?? ""
        #expect(message.hasPrefix("2 of 2 agent pods cannot be created: pods \"obs-collector-x7k2p\" is forbidden"), "\(message)")
        #expect(message.contains("hostPath volumes are not allowed"))
        #expect(cond(s, .ready) == "False/PodsRefused" && cond(s, .stalled) == "True/PodsRefused" && cond(s, .reconciling) == "False/Reconciled")
        #expect(result == .requeueAfter(60))
        #expect(fake.eventReasons.withLock { $0.filter { $0 == "PodsRefused" }.count } == 1)
        _ = try await write()
        #expect(fake.eventReasons.withLock { $0.filter { $0 == "PodsRefused" }.count } == 1)

        // The agents are admitted and serve; the gateway's ReplicaSet is refused by a quota.
        try setDaemonSet(["observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 2, "numberAvailable": 2, "updatedNumberScheduled": 2])
        try setGateway([
            "observedGeneration": 1, "replicas": 0,
            "conditions": [
                ["type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"],
                ["type": "ReplicaFailure", "status": "True", "reason": "FailedCreate",
                 "message": #"pods "obs-gateway-5d9c-abcde" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2"#],
            ],
        ])
        (s, result) = try await write()
        #expect(cond(s, .collectorAvailable) == "False/PodsRefused" && cond(s, .stalled) == "True/PodsRefused")
        #expect(s.status?.condition(ConditionType.collectorAvailable.rawValue)?.message.contains("gateway pods cannot be created: pods \"obs-gateway-5d9c-abcde\" is forbidden: exceeded quota") == true)

        // The quota is raised: the gateway's pods exist but are not available yet.
        try setGateway(["observedGeneration": 1, "replicas": 2, "conditions": [["type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable"]]])
        (s, result) = try await write()
        #expect(cond(s, .collectorAvailable) == "False/Progressing" && cond(s, .ready) == "False/CollectorUnavailable")
        #expect(cond(s, .stalled) == "False/Reconciled" && cond(s, .reconciling) == "True/CollectorRollout")
        #expect(s.status?.condition(ConditionType.collectorAvailable.rawValue)?.message == "0 of 2 gateway pods are available")

        // Everything serves.
        try setGateway([
            "observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2,
            "conditions": [["type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"]],
        ])
        (s, result) = try await write()
        #expect(cond(s, .collectorAvailable) == "True/AllReady" && cond(s, .ready) == "True/Reconciled")
        #expect(cond(s, .stalled) == "False/Reconciled" && cond(s, .reconciling) == "False/Reconciled")
        #expect(s.status?.collectors == CollectorsStatus(desired: 2, ready: 2))
        #expect(result == .done)

        // A rollout, one node at a time: still serving, so still Ready, and Reconciling.
        try setDaemonSet(["observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1, "numberAvailable": 1, "updatedNumberScheduled": 1])
        (s, _) = try await write()
        #expect(cond(s, .collectorAvailable) == "True/RollingOut" && cond(s, .ready) == "True/Reconciled" && cond(s, .reconciling) == "True/CollectorRollout")
        // On one node, its only pod down is an outage.
        #expect(CollectorHealth.assess(
            daemonSet: try daemonSet(generation: 2, status: ["observedGeneration": 1, "desiredNumberScheduled": 1, "currentNumberScheduled": 1]),
            gateway: nil, hasGateway: false).state == .unavailable)
    }
}
