import KubeClient
import KubeModel
import Logging
import Render
import Rotation

/// The sub-reconciler that converges the cluster on the desired objects: server-side apply
/// of each object that differs from the live one, in order, then prune what the stack owns
/// and no longer wants. A steady state issues no request.
struct Applier: Sendable {
    let owned: [OwnedKind]
    let writer: any ClusterWriter

    struct Outcome: Sendable {
        /// Clients whose Secret holds the current credential after this pass.
        var published: Set<String> = []
        /// Client namespaces that do not exist.
        var missingNamespaces: [String] = []
        var requeueAfter: Double? = nil
        var applied: [String] = []
        /// Objects Vigil would write that exist and are not this stack's: left untouched.
        var conflicts: [String] = []
    }

    /// Applies `desired`; `clientKeys` maps each writable client Secret's key to its
    /// client. A declared client's Secret is kept even while it may not be rewritten (a
    /// rollout is under way): it holds a credential every running pod accepts.
    /// `prune: false` applies `desired` and removes nothing (a part of the stack, such as its
    /// certificates while the rest is refused).
    func apply(
        _ ctx: StackContext, _ desired: [DesiredObject], clientKeys: [String: String], world: World, prune pruning: Bool = true, log: Logger
    ) async throws -> Result<Outcome, Refusal> {
        let live = world.owned
        let desiredKeys = Set(desired.map(\.key)).union(clientKeys.keys)
        // A removed client's Secret goes before its credential leaves the file.
        if pruning { try await prune(live.filter { $0.value.metadata.namespace != ctx.namespace }, keeping: desiredKeys, log: log) }
        var out = Outcome()
        // Objects not among the stack's: one of that name may still exist (not labelled by
        // Vigil, or another stack's). Each is read before anything is written, since Vigil
        // writes over nothing it does not own; the reads go out together, not one after
        // another (a new stack has all its objects to check).
        let existing = await readAll(desired.filter { live[$0.key] == nil })
        for object in desired {
            // The Prometheus Operator's kinds are not cached: read the one object.
            let cache = store(owned, object.resource)
            var current = live[object.key]
            if current == nil {
                if let existing = try existing[object.key]?.get() {
                    guard Ownership.owns(ctx, existing, resource: object.resource) else {
                        out.conflicts.append("\(object.resource.kind) \(object.namespace ?? "")/\(object.name) exists and is \(Ownership.holder(of: existing))")
                        continue
                    }
                    current = existing
                }
            }
            guard Self.needsApply(object, live: current) else {
                if let c = clientKeys[object.key] { out.published.insert(c) }
                continue
            }
            do {
                // Applied whether or not its kind is cached (optional chaining would skip it).
                let result = try await writer.apply(object)
                cache?.upsert(result)
                out.applied.append(object.key)
                if let c = clientKeys[object.key] { out.published.insert(c) }
            } catch let e as KubeAPIError where e.isNotFound && object.namespace != ctx.namespace {
                // A client whose namespace does not exist: the others proceed.
                out.missingNamespaces.append(object.namespace ?? "")
            } catch let e as KubeAPIError where e.isNotFound && cache == nil {
                // The Prometheus Operator's CRD went away since discovery last looked: the
                // next discovery switches to the ConfigMap; look again then.
                log.warning("\(object.resource.kind) is no longer served; waiting for discovery", metadata: ["object": "\(object.key)"])
                out.requeueAfter = 5
            } catch let e as KubeAPIError where e.code == 422 || (e.code == 400 && e.reason == "BadRequest") {
                // The API server refuses what the spec produced (a resource quantity it
                // cannot parse, say): say so, naming the object and the server's field,
                // and wait for the spec to change instead of retrying.
                return .failure(
                    Refusal(
                        reason: "ObjectRejected", message: "the API server refused \(object.resource.kind) \(object.name): \(e.message)",
                        ready: "an object could not be applied; the others are as they were"
                    )
                )
            }
        }
        if !out.missingNamespaces.isEmpty { out.requeueAfter = min(out.requeueAfter ?? 30, 30) }
        return .success(out)
    }

    /// The live objects of these desired objects' names, read `width` at a time: nil for an
    /// absent one; a failed read is kept, to be thrown at that object's turn (the objects
    /// before it are applied first, as when they were read one by one).
    func readAll(_ objects: [DesiredObject], width: Int = 8) async -> [String: Result<Unstructured?, any Error>] {
        let writer = self.writer
        return await withTaskGroup(of: (String, Result<Unstructured?, any Error>).self) { group in
            var found: [String: Result<Unstructured?, any Error>] = [:]
            var next = objects.makeIterator()
            func start() {
                guard let o = next.next() else { return }
                group.addTask {
                    do { return (o.key, .success(try await writer.readObject(o.resource, namespace: o.namespace, name: o.name))) } catch { return (o.key, .failure(error)) }
                }
            }
            for _ in 0..<width { start() }
            while let (key, result) = await group.next() {
                found[key] = result
                start()
            }
            return found
        }
    }

    /// Everything the apply step does after the objects: the publication record, then the
    /// prune of what is no longer desired.
    func finish(_ ctx: StackContext, _ desired: [DesiredObject], clientKeys: [String: String], credentials: CredentialReconciler.Outcome?, outcome: inout Outcome, world: World, log: Logger) async throws {
        if let credentials, let key = try await recordPublication(ctx, credentials, published: outcome.published) { outcome.applied.append(key) }
        try await prune(world.owned, keeping: Set(desired.map(\.key)).union(clientKeys.keys), log: log)
        try await pruneUncached(ctx, desired, world: world, log: log)
        let n = outcome.applied.count
        if n > 0 { log.info("applied", metadata: ["objects": "\(n)", "keys": "\(outcome.applied.prefix(4).joined(separator: " "))\(n > 4 ? " …" : "")"]) }
    }

    /// Records which clients hold the current generation: one whose Secret then
    /// disappears was deleted by hand, and its credential is rotated. Written only when
    /// that set changed, after the client Secrets, so the record never runs ahead of them.
    func recordPublication(_ ctx: StackContext, _ credentials: CredentialReconciler.Outcome, published: Set<String>) async throws -> String? {
        var state = credentials.state
        let holding = state.published.union(published).intersection(Set(ctx.spec.clients.map(\.name)))
        guard holding != state.published else { return nil }
        state.published = holding
        let object = try DesiredState.credentialsRecord(ctx, CredentialReconciler.material(state))
        let live = try await writer.apply(object)
        store(owned, Secret.resource)?.upsert(live)
        return object.key
    }

    /// Deletes the live objects in `live` that are not in `keeping`.
    func prune(_ live: [String: Unstructured], keeping: Set<String>, log: Logger) async throws {
        for (k, object) in live.sorted(by: { $0.key < $1.key }) where !keeping.contains(k) {
            let plural = k.split(separator: "/").first.map(String.init) ?? ""
            guard let kind = owned.first(where: { $0.resource.plural == plural }) else { continue }
            guard kind.store.get(object.metadata.key) != nil else { continue }
            try await writer.delete(kind.resource, namespace: object.metadata.namespace, name: object.metadata.name ?? "")
            kind.store.remove(object.metadata.key)
            log.info("pruned", metadata: ["object": "\(k)"])
        }
    }

    /// The optional objects of kinds Vigil does not cache (read by name where the kind is
    /// served) that a stack no longer asks for: its AlertmanagerConfig (whose routes would
    /// notify twice beside the alertmanager.yaml that replaces it), its Grafana Operator
    /// objects (which the sidecar's ConfigMaps replace) and its gateway's PodDisruptionBudget.
    func pruneUncached(_ ctx: StackContext, _ desired: [DesiredObject], world: World, log: Logger) async throws {
        let keys = Set(desired.map(\.key))
        var optional = [(AlertmanagerConfigObject.resource, AlertmanagerConfigObject.name(ctx))] + GrafanaOperatorRender.names(ctx)
        optional = optional.filter { world.monitoringKinds.contains($0.0.plural) }
        // A budget exists only beside a gateway: looked for while the stack had one.
        if let pdb = GatewayDisruptionBudget.resource(kinds: world.monitoringKinds), world.owned["\(Kinds.deployment.plural)/\(ctx.namespace)/\(ctx.names.gateway)"] != nil {
            optional.append((pdb, GatewayDisruptionBudget.name(ctx)))
        }
        for (resource, name) in optional {
            guard !keys.contains("\(resource.plural)/\(ctx.namespace)/\(name)") else { continue }
            guard let live = try await writer.readObject(resource, namespace: ctx.namespace, name: name), Ownership.owns(ctx, live, resource: resource) else { continue }
            try await writer.delete(resource, namespace: ctx.namespace, name: name)
            log.info("pruned", metadata: ["object": "\(resource.plural)/\(ctx.namespace)/\(name)"])
        }
    }

    /// Apply when the object is missing, when the desired object changed since it was last
    /// applied (its hash annotation), or when someone edited a field Vigil owns.
    static func needsApply(_ desired: DesiredObject, live: Unstructured?) -> Bool {
        guard let live else { return true }
        if live.metadata.annotations?[Annotations.desiredHash] != desired.hash { return true }
        guard case .object(var body) = desired.body else { return true }
        // Lists may omit apiVersion and kind on their items.
        body["apiVersion"] = nil
        body["kind"] = nil
        // Compared in the form the cache keeps (some values as digests).
        let component = body["metadata"]?["labels"]?[Labels.component]?.stringValue
        guard let rule = CachedForm.digests(desired.resource, component: component) else { return !JSONValue.object(body).isSubset(of: live.object) }
        return !CachedForm.digested(.object(body), rule).isSubset(of: CachedForm.digested(live.object, rule))
    }
}
