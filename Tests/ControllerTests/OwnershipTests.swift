import Controller
import Foundation
import KubeModel
import Logging
import Render
import Synchronization
import Testing

/// Vigil writes and deletes only what is the stack's: objects it did not make are left as
/// they are and reported; other namespaces are written only with their consent.
@Suite struct OwnershipTests {
    let logger = Logger(label: "test")

    func make(_ fake: FakeCluster, accepted: @escaping @Sendable (String) -> Set<String>?) -> (StackReconciler, Store<ObservabilityStack>) {
        let stacks = Store<ObservabilityStack>()
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        let r = StackReconciler(
            stacks: stacks, owned: owned, writer: fake, events: EventRecorder(writer: fake, logger: logger), now: { Date(timeIntervalSince1970: 1_800_000_000) },
            nodeAddresses: { ["10.0.0.1"] }, acceptedStacks: accepted, logger: logger
        )
        return (r, stacks)
    }

    func stack(clients: [ClientRef] = [], generation: Int = 1) -> ObservabilityStack {
        var spec = StackSpec(environment: .production, exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317")))
        spec.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: clients))
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        s.metadata.uid = "uid-1"
        s.metadata.generation = generation
        s.metadata.resourceVersion = "\(generation)"
        return s
    }

    @Test func anObjectVigilDidNotMakeIsLeftAsItIsReportedAndNeverDeleted() async throws {
        let fake = FakeCluster()
        let (r, stacks) = make(fake, accepted: { _ in nil })
        // Someone's ConfigMap and ServiceAccount with the names the stack would give its own.
        let theirs = try Unstructured(object: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "obs-collector", "namespace": "team", "resourceVersion": "7"], "data": ["mine": "yes"]])
        let sa = try Unstructured(object: [
            "apiVersion": "v1", "kind": "ServiceAccount",
            "metadata": [
                "name": "obs-collector", "namespace": "team", "resourceVersion": "8",
                "ownerReferences": [["apiVersion": "observability.vigil.dev/v1alpha1", "kind": "ObservabilityStack", "name": "other", "uid": "uid-other", "controller": true]],
            ],
        ])
        fake.objects.withLock {
            $0["configmaps/team/obs-collector"] = theirs
            $0["serviceaccounts/team/obs-collector"] = sa
        }
        stacks.upsert(stack())
        _ = try await r.reconcile("team/obs")
        _ = try await r.reconcile("team/obs")
        #expect(fake.objects.withLock { $0["configmaps/team/obs-collector"] } == theirs)
        #expect(fake.objects.withLock { $0["serviceaccounts/team/obs-collector"] } == sa)
        #expect(!fake.appliedKeys.withLock { $0 }.contains("configmaps/team/obs-collector"))
        let ready = try #require(stacks.get("team/obs")?.status?.condition("Ready"))
        #expect(ready.status == "False" && ready.reason == "OwnershipConflict")
        #expect(ready.message.contains("ConfigMap team/obs-collector exists and is not managed by Vigil"))
        #expect(ready.message.contains("ServiceAccount team/obs-collector exists and is controlled by ObservabilityStack other (uid uid-other)"))
        #expect(fake.eventReasons.withLock { $0 }.filter { $0 == "OwnershipConflict" }.count == 1)
        // The rest of the stack is applied; nothing of theirs is deleted, even with the stack gone.
        #expect(fake.objects.withLock { $0["secrets/team/obs-htpasswd"] } != nil)
        #expect(fake.counts.withLock { $0.deletes } == 0)
    }

    @Test func anotherNamespaceGetsNothingUntilItConsentsAndLosesItWhenItRevokes() async throws {
        let fake = FakeCluster()
        let consent = Mutex<Set<String>?>(nil)
        let (r, stacks) = make(fake, accepted: { ns in ns == "apps" ? consent.withLock { $0 } : nil })
        stacks.upsert(stack(clients: [ClientRef(name: "api", namespace: "apps"), ClientRef(name: "web", namespace: "team")]))
        for _ in 0..<2 { _ = try await r.reconcile("team/obs") }
        let keys = { fake.objects.withLock { Set($0.keys) } }
        // The stack's own namespace needs no consent; `apps` has given none.
        #expect(keys().contains("secrets/team/team.obs-otlp-client"))
        #expect(!keys().contains { $0.hasPrefix("secrets/apps/") })
        let pending = try #require(stacks.get("team/obs")?.status?.condition("CredentialsReady"))
        #expect(pending.status == "False" && pending.reason == "ConsentPending" && pending.message.contains("Pending: api (namespace apps)"))
        #expect(pending.message.contains("observability.vigil.dev/accept-stacks=team/obs"))
        #expect(fake.eventReasons.withLock { $0 }.contains("ConsentPending"))
        // Consent for another stack is no consent for this one.
        consent.withLock { $0 = ["other/obs"] }
        _ = try await r.reconcile("team/obs")
        #expect(!keys().contains("secrets/apps/team.obs-otlp-client"))
        // Granted: published in one reconcile.
        consent.withLock { $0 = ["other/obs", "team/obs"] }
        _ = try await r.reconcile("team/obs")
        #expect(keys().contains("secrets/apps/team.obs-otlp-client"))
        #expect(stacks.get("team/obs")?.status?.condition("CredentialsReady")?.isTrue == true)
        // Revoked: Vigil's Secret there goes.
        consent.withLock { $0 = [] }
        _ = try await r.reconcile("team/obs")
        #expect(!keys().contains("secrets/apps/team.obs-otlp-client"))
        #expect(keys().contains("secrets/team/team.obs-otlp-client"))
    }

    @Test func aClientSecretIsTheStacksOnlyWhenItsLabelsNameTheStack() throws {
        let ctx = StackContext(stack())
        func secret(_ labels: [String: String], namespace: String = "apps") throws -> Unstructured {
            try Unstructured(object: ["metadata": ["name": "team.obs-otlp-client", "namespace": .string(namespace), "labels": .object(labels.jsonObject)]])
        }
        let base = [Labels.managedBy: Labels.managerValue, Labels.stack: "obs", Annotations.stackNamespaceLabel: "team"]
        #expect(Ownership.owns(ctx, try secret(base.merging([Annotations.stackUIDLabel: "uid-1"]) { a, _ in a }), resource: Secret.resource))
        // Written by a version that named the stack by app.kubernetes.io/instance.
        let legacy = [Labels.managedBy: Labels.managerValue, Labels.instance: "obs", Annotations.stackNamespaceLabel: "team", Annotations.stackUIDLabel: "uid-1"]
        #expect(Ownership.owns(ctx, try secret(legacy), resource: Secret.resource))
        #expect(!Ownership.owns(ctx, try secret(legacy.merging([Labels.instance: "other"]) { _, b in b }), resource: Secret.resource))
        // Written before the uid label: still the stack's by namespace and name.
        #expect(Ownership.owns(ctx, try secret(base), resource: Secret.resource))
        // Another stack of the same name, or one deleted and made again: not this one's.
        #expect(!Ownership.owns(ctx, try secret(base.merging([Annotations.stackNamespaceLabel: "fba-dev"]) { _, b in b }), resource: Secret.resource))
        #expect(!Ownership.owns(ctx, try secret(base.merging([Annotations.stackUIDLabel: "uid-0"]) { _, b in b }), resource: Secret.resource))
        #expect(!Ownership.owns(ctx, try secret([:]), resource: Secret.resource))
        // Labels never make a ConfigMap the stack's: only its owner reference does.
        #expect(!Ownership.owns(ctx, try secret(base, namespace: "team"), resource: ConfigMap.resource))
    }
}
