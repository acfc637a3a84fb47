import Foundation
import KubeClient
import KubeModel
import Logging
import Render
import Rotation

/// The level-based reconcile of one stack, as a short sequence of sub-reconcilers: the
/// gate (may it be applied at all), the world (every read, once), certificates,
/// credentials, apply (the desired objects in order, then prune) and status (written only
/// when it changed). A steady state issues no writes.
public final class StackReconciler: Sendable {
    let stacks: Store<ObservabilityStack>
    let owned: [OwnedKind]
    let writer: any ClusterWriter
    let clock: @Sendable () -> Date
    let entropy: Entropy
    let logger: Logger
    /// The one namespace Vigil watches, or nil for all. Client Secrets outside it could be
    /// neither seen nor cleaned up, so they are not published.
    let watchNamespace: String?
    let gate: Gate
    let world: WorldReader
    let applier: Applier
    let status: StatusWriter

    public init(
        stacks: Store<ObservabilityStack>, owned: [OwnedKind], writer: any ClusterWriter, events: EventRecorder,
        now: @escaping @Sendable () -> Date = { Date() }, watchNamespace: String? = nil,
        monitoringKinds: @escaping @Sendable () -> Set<String> = { [] }, nodeAddresses: @escaping @Sendable () -> [String] = { [] },
        acceptedStacks: @escaping @Sendable (String) -> Set<String>? = { _ in nil }, nodeCount: @escaping @Sendable () -> Int? = { nil },
        podsReading: @escaping @Sendable (String, String) -> [PodSecretUse] = { _, _ in [] },
        policy: OperatorPolicy = .standard, entropy: Entropy = .system, logger: Logger
    ) {
        self.stacks = stacks
        self.owned = owned
        self.writer = writer
        self.clock = now
        self.entropy = entropy
        self.logger = logger
        self.watchNamespace = watchNamespace
        gate = Gate(writer: writer, policy: policy)
        world = WorldReader(owned: owned, watchNamespace: watchNamespace, monitoringKinds: monitoringKinds, nodeAddresses: nodeAddresses, acceptedStacks: acceptedStacks, podsReading: podsReading)
        applier = Applier(owned: owned, writer: writer)
        status = StatusWriter(stacks: stacks, owned: owned, writer: writer, events: events, nodeCount: nodeCount)
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard let stack = stacks.get(key) else { return .done }
        let now = clock()
        let log = logger(for: stack, key: key)
        // Deletion cascades through owner references, except to other namespaces.
        if stack.metadata.deletionTimestamp != nil { return try await release(stack, key: key, log: log) }
        let admitted: Gate.Admitted
        switch try await gate.admit(stack, now: now) {
        case .failure(let rejected):
            let result = try await status.reject(rejected.ctx, rejected.refusal, now: now, log: log)
            // The rest waits for a valid spec; certificates and credentials do not.
            guard
                let kept = try await keepUp(
                    rejected.ctx, certificatesValid: rejected.certificatesValid, credentialsValid: rejected.credentialsValid, now: now, log: log)
            else { return result }
            return ReconcileResult.earliest(result, kept)
        case .success(let a): admitted = a
        }
        var ctx = admitted.ctx
        let world = self.world.read(ctx)
        ctx.legacySelectors = world.legacySelectors(ctx)
        // Pods are attributed (and may be listed) only where Vigil may write.
        ctx.servedNamespaces = Array(Set([ctx.namespace] + world.writableClients.map(\.namespace))).sorted()
        var contribution = admitted.contribution
        contribution.merge(networkPolicyContribution(ctx, nodeAddresses: world.nodeAddresses))
        let credentials = try await credentialStep(&ctx, world: world, now: now)
        let certificates = try certificateStep(ctx, now: now, world: world)
        let material = credentials.map { $0.material(ctx, clients: world.writableClients) }
        let rendered = try render(ctx, admitted, world, certificates: certificates, credentials: credentials, material: material)
        // Objects in other namespaces go with the stack through its finalizer.
        if rendered.objects.contains(where: { $0.namespace != ctx.namespace }), ctx.stack.metadata.finalizers?.contains(Annotations.clientSecretsFinalizer) != true {
            let stack = try await writer.applyFinalizers([Annotations.clientSecretsFinalizer], of: ctx.stack)
            stacks.upsert(stack)
            ctx = ctx.replacingStack(stack)
        }
        let clientKeys = Self.clientKeys(ctx, world)
        var applied: Applier.Outcome
        switch try await applier.apply(ctx, rendered.objects, clientKeys: credentials == nil ? [:] : clientKeys, world: world, log: log) {
        case .failure(let refusal):
            let result = try await status.reject(ctx, refusal, now: now, log: log)
            // An object the API server refuses stops the apply there; the client Secrets
            // (last) and the publication record still go out, so that rotation goes on.
            guard let credentials else { return result }
            let secrets = rendered.objects.filter { $0.resource == Secret.resource }
            if case .success(let published) = try await applier.apply(ctx, secrets, clientKeys: clientKeys, world: world, prune: false, log: log) {
                _ = try await applier.recordPublication(ctx, credentials, published: published.published)
            }
            return ReconcileResult.earliest(result, credentials.requeueAfter.map { .requeueAfter($0) } ?? .requeueAfter(30))
        case .success(let outcome): applied = outcome
        }
        try await applier.finish(
            ctx, rendered.objects, clientKeys: credentials == nil ? [:] : clientKeys, credentials: credentials, outcome: &applied, world: world, log: log)
        if let credentials {
            contribution.merge(credentialsContribution(ctx, credentials, world: world, applied: applied))
            contribution.events += await restarts(ctx, world: world, credentials: credentials, certificates: certificates, published: applied.published, log: log)
        }
        if let certificates { contribution.merge(certificates.contribution) }
        contribution.merge(conflictContribution(ctx, applied.conflicts))
        if let r = applied.requeueAfter { contribution.requeueAfter = min(contribution.requeueAfter ?? r, r) }
        return try await status.write(ctx, contribution, configHash: rendered.configHash, now: now, log: log)
    }

    /// The logger of one reconcile: the stack, and an id to tell interleaved reconciles apart.
    func logger(for stack: ObservabilityStack, key: String) -> Logger {
        var log = logger
        log[metadataKey: "stack"] = "\(key)"
        log[metadataKey: "namespace"] = "\(stack.metadata.namespace ?? "")"
        log[metadataKey: "name"] = "\(stack.metadata.name ?? "")"
        log[metadataKey: "reconcileID"] = "\(entropy.reconcileID())"
        return log
    }

    /// A stack being deleted: its client Secrets and RoleBindings in other namespaces go
    /// first (no owner reference reaches them), then Vigil's finalizer.
    func release(_ stack: ObservabilityStack, key: String, log: Logger) async throws -> ReconcileResult {
        guard stack.metadata.finalizers?.contains(Annotations.clientSecretsFinalizer) == true else { return .done }
        for (resource, object) in crossNamespaceObjects(of: stack, in: owned) {
            try await writer.delete(resource, namespace: object.metadata.namespace, name: object.metadata.name ?? "")
            store(owned, resource)?.remove(object.metadata.key)
        }
        let released = try await writer.applyFinalizers([], of: stack)
        // With no finalizer left the server deletes it: caching the answer would keep a
        // stack that no longer exists (its DELETED event may already have passed).
        if (released.metadata.finalizers ?? []).isEmpty {
            stacks.remove(key)
        } else {
            stacks.upsert(released)
        }
        log.info("client Secrets removed; finalizer released")
        return .done
    }

    /// Credentials, where BasicAuth is on: the planner's steps, and the finalizer that
    /// client Secrets in other namespaces need (the stack in `ctx` then carries it).
    func credentialStep(_ ctx: inout StackContext, world: World, now: Date) async throws -> CredentialReconciler.Outcome? {
        guard ctx.spec.basicAuth, let secrets = store(owned, Secret.resource) else { return nil }
        let entropy = self.entropy
        let outcome = try CredentialReconciler(secrets: secrets) { cost in
            let password = entropy.password()
            return Credential(password: password, hash: try entropy.bcrypt(password, cost))
        }.reconcile(ctx, now: now, liveDaemonSet: world.daemonSet, clientSecrets: world.clientSecrets, consumers: world.consumers)
        if !ctx.spec.clients.isEmpty, ctx.stack.metadata.finalizers?.contains(Annotations.clientSecretsFinalizer) != true {
            let stack = try await writer.applyFinalizers([Annotations.clientSecretsFinalizer], of: ctx.stack)
            stacks.upsert(stack)
            ctx = ctx.replacingStack(stack)
        }
        return outcome
    }

    /// A refused stack's certificates and credentials: renewed and rotated as usual, so that
    /// nothing expires and no old credential stays while the spec waits for a fix. Only
    /// their Secrets (client Secrets included) are written, nothing is pruned, and the
    /// running collector is touched only to roll it onto a changed htpasswd file or trust
    /// bundle (its pod template's annotations; its config stays as it was).
    func keepUp(_ ctx: StackContext, certificatesValid: Bool, credentialsValid: Bool, now: Date, log: Logger) async throws -> ReconcileResult? {
        // Kept up, not begun: a stack refused from the start gets nothing.
        guard ctx.uid != nil, let secrets = store(owned, Secret.resource) else { return nil }
        var ctx = ctx
        let world = self.world.read(ctx)
        let certificates = certificatesValid && secrets.get("\(ctx.namespace)/\(ctx.names.ca)") != nil ? try certificateStep(ctx, now: now, world: world) : nil
        var credentials: CredentialReconciler.Outcome? = nil
        if credentialsValid, ctx.spec.basicAuth, secrets.get("\(ctx.namespace)/\(ctx.names.credentials)") != nil {
            credentials = try await credentialStep(&ctx, world: world, now: now)
        }
        guard certificates != nil || credentials != nil else { return nil }
        var material = credentials.map { $0.material(ctx, clients: world.writableClients) }
        // Client Secrets carry the CA bundle: without it in hand, they are left as they are.
        if ctx.needsStackCA && certificates == nil { material?.clientSecrets = [] }
        let objects = try DesiredState.rotationSecrets(ctx, certificates: certificates?.material, credentials: material)
        let clientKeys = credentials == nil ? [:] : Self.clientKeys(ctx, world)
        guard case .success(var applied) = try await applier.apply(ctx, objects, clientKeys: clientKeys, world: world, prune: false, log: log) else { return nil }
        if let credentials, let key = try await applier.recordPublication(ctx, credentials, published: applied.published) { applied.applied.append(key) }
        try await rollCollector(ctx, htpasswdHash: credentials?.materialHash, bundle: ctx.hasGateway ? certificates?.bundle : nil, world: world, log: log)
        if !applied.applied.isEmpty {
            log.info("certificates and credentials kept up while the stack is refused", metadata: ["keys": "\(applied.applied.joined(separator: " "))"])
        }
        var contribution = Contribution()
        if let certificates { contribution.merge(certificates.contribution) }
        if let credentials {
            contribution.merge(credentialsContribution(ctx, credentials, world: world, applied: applied))
            contribution.events += await restarts(ctx, world: world, credentials: credentials, certificates: certificates, published: applied.published, log: log)
        }
        // The status is the refusal's: warnings that fire when it changes would repeat.
        await status.emit(ctx.stack, contribution.events.filter { $0.reason != "StaleConsumers" }, log: log)
        let deadlines = [certificates?.requeueAfter, credentials?.requeueAfter].compactMap { $0 }
        return deadlines.min().map { .requeueAfter($0) } ?? (credentials?.state.phase == .rollingOut ? .requeueAfter(30) : nil)
    }

    /// Opt-in restarts of the workloads whose pods predate their client Secret's content,
    /// once it is published; a Normal event names them.
    func restarts(
        _ ctx: StackContext, world: World, credentials: CredentialReconciler.Outcome, certificates: CertificateReconciler.Outcome?, published: Set<String>,
        log: Logger
    ) async -> [StackEvent] {
        let changed = Restarter.changedAt(ctx, credentials: credentials, certificates: certificates, published: published)
        let restarted = await Restarter(writer: writer).restart(ctx, world: world, changedAt: changed, log: log)
        guard !restarted.isEmpty else { return [] }
        let message = "restarted onto their client Secret's new content (\(Annotations.restartOnRotation)): \(restarted.joined(separator: ", "))"
        return [StackEvent(type: .normal, reason: "ConsumersRestarted", message: message, log: "credentials: \(message)")]
    }

    /// Each writable client's Secret, keyed as `DesiredObject.key`, to its client.
    static func clientKeys(_ ctx: StackContext, _ world: World) -> [String: String] {
        Dictionary(world.writableClients.map { ("secrets/\($0.namespace)/\(ctx.names.otlpClient)", $0.name) }) { a, _ in a }
    }

    /// Rolls the running collector onto a changed htpasswd file or gateway trust bundle by
    /// merging their hashes into its pod template's annotations (a refused stack's
    /// DaemonSet is otherwise left as it is).
    func rollCollector(_ ctx: StackContext, htpasswdHash: String?, bundle: String?, world: World, log: Logger) async throws {
        guard let ds = world.daemonSet, Ownership.owns(ctx, ds, resource: Kinds.daemonSet) else { return }
        let live = ds.object["spec"]?["template"]?["metadata"]?["annotations"]
        var patch: [String: String] = [:]
        if let htpasswdHash, live?[Annotations.htpasswdHash]?.stringValue != htpasswdHash { patch[Annotations.htpasswdHash] = htpasswdHash }
        if let bundle {
            let hash = sha256Hex(Array(bundle.utf8))
            if live?[Annotations.trustBundleHash]?.stringValue != hash { patch[Annotations.trustBundleHash] = hash }
        }
        guard !patch.isEmpty else { return }
        let updated = try await writer.patchTemplateAnnotations(Kinds.daemonSet, namespace: ctx.namespace, name: ctx.names.collector, annotations: patch)
        store(owned, Kinds.daemonSet)?.upsert(updated)
        log.info("collector rolled onto new credentials or trust bundle while the stack is refused", metadata: ["annotations": "\(patch.keys.sorted().joined(separator: " "))"])
    }

    /// Certificates, where Vigil is the stack's CA (its ingest certificate, or the gateway's mTLS).
    func certificateStep(_ ctx: StackContext, now: Date, world: World? = nil) throws -> CertificateReconciler.Outcome? {
        guard ctx.needsStackCA, let secrets = store(owned, Secret.resource) else { return nil }
        return try CertificateReconciler(secrets: secrets, issuer: entropy.issuer).reconcile(
            ctx, now: now, consumers: world?.consumers ?? [], clientSecrets: world?.clientSecrets ?? [:])
    }

    /// Every desired object, from Render: the collector's inputs enter the pod template's
    /// hash (the htpasswd file and the referenced Secrets' values, hashed, never kept).
    func render(
        _ ctx: StackContext, _ admitted: Gate.Admitted, _ world: World, certificates: CertificateReconciler.Outcome?,
        credentials: CredentialReconciler.Outcome?, material: CredentialMaterial?
    ) throws -> RenderedStack {
        let htpasswdHash = credentials?.materialHash ?? ""
        let referenced = admitted.referenced
        let mounted = referenced.isEmpty ? htpasswdHash : sha256Hex(Array((htpasswdHash + "\n" + referenced.sorted().joined(separator: "\n")).utf8))
        let inputs = RenderInputs(
            mountedMaterialHash: mounted, htpasswdHash: htpasswdHash, nodeAddresses: world.nodeAddresses, monitoringKinds: world.monitoringKinds,
            alertSecrets: admitted.alertSecrets, certificates: certificates?.material, credentials: material
        )
        return try DesiredState.render(ctx, inputs: inputs)
    }

    /// Objects Vigil would write that belong to someone else: named in Ready and in a Warning
    /// event (once, when the list changes), looked at again in a minute (nothing watches
    /// an object Vigil does not manage).
    func conflictContribution(_ ctx: StackContext, _ conflicts: [String]) -> Contribution {
        var c = Contribution()
        guard !conflicts.isEmpty else { return c }
        let message = "left untouched, not this stack's: " + conflicts.sorted().joined(separator: "; ")
        c.conditions = [StackCondition(.ready, false, reason: "OwnershipConflict", message: message)]
        c.requeueAfter = 60
        if ctx.stack.status?.condition(ConditionType.ready.rawValue)?.message != message {
            c.events = [StackEvent(type: .warning, reason: "OwnershipConflict", message: message, log: "ownership conflict: \(message)")]
        }
        return c
    }

    /// The credentials' condition, status and events, once the client Secrets were applied.
    func credentialsContribution(_ ctx: StackContext, _ credentials: CredentialReconciler.Outcome, world: World, applied: Applier.Outcome) -> Contribution {
        var c = Contribution()
        c.requeueAfter = credentials.requeueAfter
        c.credentials = credentials.status
        let clients = ctx.spec.clients
        let pending = Set(world.pending.map(\.name))
        let waiting = clients.filter { !credentials.publishable.contains($0.name) && !world.unwatched.contains($0.namespace) && !pending.contains($0.name) }.map(\.name)
        let condition: StackCondition
        if !world.pending.isEmpty {
            let list = world.pending.map { "\($0.name) (namespace \($0.namespace))" }.sorted().joined(separator: ", ")
            let message = "Pending: \(list) not published: the namespace has not accepted this stack (annotate it \(Annotations.acceptStacks)=\(ctx.key)); the other clients have their Secrets"
            condition = StackCondition(.credentialsReady, false, reason: "ConsentPending", message: message)
            if ctx.stack.status?.condition(ConditionType.credentialsReady.rawValue)?.message != message {
                c.events.append(StackEvent(type: .warning, reason: "ConsentPending", message: message, log: "credentials: \(message)"))
            }
        } else if !world.unwatched.isEmpty {
            let list = world.unwatched.sorted().joined(separator: ", ")
            condition = StackCondition(.credentialsReady, false, reason: "NamespaceNotWatched", message: "Vigil watches only namespace \(watchNamespace ?? ""); no client Secret is published to \(list)")
        } else if !applied.missingNamespaces.isEmpty {
            let list = applied.missingNamespaces.sorted().joined(separator: ", ")
            condition = StackCondition(.credentialsReady, false, reason: "NamespaceNotFound", message: "client namespace(s) not found: \(list); the other clients have their Secrets")
        } else if !waiting.isEmpty {
            let message = "the collector is rolling onto the htpasswd file; \(waiting.sorted().joined(separator: ", ")) get their Secret when every pod has it"
            condition = StackCondition(.credentialsReady, false, reason: "WaitingForRollout", message: message)
        } else {
            let phase = credentials.state.phase == .stable ? "" : ", rotation phase \(credentials.state.phase.rawValue)"
            var message = "\(clients.count) client credential(s), generation \(credentials.state.generation)\(phase), published"
            if !credentials.staleConsumers.isEmpty {
                message += "; pods still to restart onto it: \(credentials.staleConsumers.prefix(20).joined(separator: ", "))\(credentials.staleConsumers.count > 20 ? " …" : "")"
            }
            condition = StackCondition(.credentialsReady, true, reason: "Issued", message: message)
        }
        c.conditions = [condition]
        if !credentials.staleConsumers.isEmpty, let by = credentials.status.previousRemovedBy {
            let message = "pods started before generation \(credentials.state.generation) was published still send generation \(credentials.state.generation - 1), which stays until they restart and leaves at \(by) at the latest: \(credentials.staleConsumers.joined(separator: ", "))"
            if ctx.stack.status?.credentials?.staleConsumers != credentials.staleConsumers {
                c.events.append(StackEvent(type: .warning, reason: "StaleConsumers", message: message, log: "credentials: \(message)"))
            }
        }
        if !credentials.forcedOut.isEmpty {
            let message = "rotation.maxOverlap passed: the previous generation left the htpasswd file while these pods had not restarted (they will be refused until they do): \(credentials.forcedOut.joined(separator: ", "))"
            c.events.append(StackEvent(type: .warning, reason: "PreviousCredentialsForcedOut", message: message, log: "credentials: \(message)"))
        }
        if let recovered = credentials.recovered {
            c.events.append(StackEvent(type: .warning, reason: "CredentialsRecovered", message: recovered, log: "credentials: \(recovered)"))
        }
        c.events += credentials.steps.map {
            StackEvent(type: .normal, reason: $0.reason, message: $0.message, log: "credentials: \($0.message)", logMetadata: ["generation": "\(credentials.state.generation)"])
        }
        return c
    }

    /// Puts an object in the cache of its kind, as a watch event would (tests).
    public func testUpsert(_ object: Unstructured, kind: ResourceDescriptor = Secret.resource) {
        store(owned, kind)?.upsert(object)
    }
}

extension Entropy {
    /// The CSPRNG for passwords and keys, bcrypt through libxcrypt, random reconcile ids.
    public static let system = Entropy(
        password: { Htpasswd.password() },
        bcrypt: { try Htpasswd.bcrypt($0, cost: $1) },
        issuer: .system,
        reconcileID: { String(UUID().uuidString.prefix(8).lowercased()) }
    )
}
