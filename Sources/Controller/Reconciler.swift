import Foundation
import KubeClient
import KubeModel
import Logging
import Render
import Rotation

/// What a reconcile asks of the queue.
public enum ReconcileResult: Sendable, Hashable {
    /// Converged; nothing scheduled.
    case done
    /// Converged; look again after this many seconds (a deadline).
    case requeueAfter(Double)
    /// The spec is invalid: recorded in status, not retried until the spec changes.
    case terminal(String)
}

/// A kind Vigil creates for stacks, with the cache of the live objects.
public struct OwnedKind: Sendable {
    public var resource: ResourceDescriptor
    public var store: Store<Unstructured>
    public init(resource: ResourceDescriptor, store: Store<Unstructured>) {
        self.resource = resource
        self.store = store
    }
}

/// Condition types of a stack's status.
public enum ConditionType {
    public static let ready = "Ready"
    public static let configValid = "ConfigValid"
    public static let collectorAvailable = "CollectorAvailable"
    public static let certificateReady = "CertificateReady"
    public static let credentialsReady = "CredentialsReady"
    public static let networkPolicyReady = "NetworkPolicyReady"
    public static let all: Set<String> = [ready, configValid, collectorAvailable, certificateReady, credentialsReady, networkPolicyReady]
}

/// The level-based reconcile of one stack: read the stack and what it owns from the
/// caches, compute the desired objects, apply only those that differ, prune what is no
/// longer desired, and write status only when it changed. A steady state issues no writes.
public final class StackReconciler: Sendable {
    let stacks: Store<ObservabilityStack>
    let owned: [OwnedKind]
    let writer: any ClusterWriter
    let events: EventRecorder
    let now: @Sendable () -> Date
    let logger: Logger
    /// The one namespace Vigil watches, or nil for all. Client Secrets outside it could be
    /// neither seen nor cleaned up, so they are not published.
    let watchNamespace: String?
    /// The Prometheus Operator's kinds the cluster serves, as last discovered.
    let monitoringKinds: @Sendable () -> Set<String>

    public init(
        stacks: Store<ObservabilityStack>, owned: [OwnedKind], writer: any ClusterWriter, events: EventRecorder,
        now: @escaping @Sendable () -> Date = { Date() }, watchNamespace: String? = nil,
        monitoringKinds: @escaping @Sendable () -> Set<String> = { [] }, logger: Logger
    ) {
        self.watchNamespace = watchNamespace
        self.monitoringKinds = monitoringKinds
        self.stacks = stacks
        self.owned = owned
        self.writer = writer
        self.events = events
        self.now = now
        self.logger = logger
    }

    public func reconcile(_ key: String) async throws -> ReconcileResult {
        guard var stack = stacks.get(key) else { return .done }
        var log = logger
        log[metadataKey: "stack"] = "\(key)"
        log[metadataKey: "namespace"] = "\(stack.metadata.namespace ?? "")"
        log[metadataKey: "name"] = "\(stack.metadata.name ?? "")"
        // One id per reconcile, to tell interleaved reconciles apart in the log.
        log[metadataKey: "reconcileID"] = "\(UUID().uuidString.prefix(8).lowercased())"
        // Deletion cascades through owner references, except to other namespaces: the
        // client Secrets go first, then Vigil's finalizer.
        if stack.metadata.deletionTimestamp != nil {
            guard stack.metadata.finalizers?.contains(ClientSecrets.finalizer) == true else { return .done }
            for secret in clientSecrets(of: stack) {
                try await writer.delete(Secret.resource, namespace: secret.metadata.namespace, name: secret.metadata.name ?? "")
                store(for: Secret.resource)?.remove(secret.metadata.key)
            }
            let released = try await writer.applyFinalizers([], of: stack)
            // With no finalizer left the server deletes it: caching the answer would keep
            // a stack that no longer exists (its DELETED event may already have passed).
            if (released.metadata.finalizers ?? []).isEmpty {
                stacks.remove(key)
            } else {
                stacks.upsert(released)
            }
            log.info("client Secrets removed; finalizer released")
            return .done
        }

        let errors = StackValidator.validate(stack)
        if !errors.isEmpty {
            return try await reject(
                stack, reason: "InvalidSpec", message: errors.map(\.description).joined(separator: "; "),
                ready: "the spec is invalid; running collectors are left untouched", log: log
            )
        }
        // What the collector would refuse at start never reaches the running collectors.
        let configProblems = ConfigCheck.check(stack)
        if !configProblems.isEmpty {
            return try await reject(
                stack, reason: "ConfigCheckFailed", message: configProblems.joined(separator: "; "),
                ready: "the rendered collector config would be rejected; running collectors are left untouched", log: log
            )
        }

        let eff = EffectiveSpec(stack.spec)
        // A user-provided certificate must be usable before anything rolls onto it.
        var userCertificate: CertificateStatus? = nil
        if eff.tlsMode == "Secret" {
            let name = stack.spec.ingest?.tls?.secretName ?? ""
            let secret = try await writer.readSecret(namespace: stack.metadata.namespace ?? "", name: name)
            func field(_ k: String) -> String? {
                secret?.data?[k].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
            }
            let problem = secret == nil
                ? "Secret \(name) does not exist"
                : PKI.problemWithKeyPair(certificatePEM: field("tls.crt"), privateKeyPEM: field("tls.key"), now: now()).map { "Secret \(name): \($0)" }
            if let problem {
                // The Secret may be created or fixed at any moment: look again soon.
                return try await reject(
                    stack, reason: "CertificateNotReady", message: problem,
                    ready: "the serving certificate is unusable; running collectors are left untouched", log: log,
                    condition: (ConditionType.certificateReady, secret == nil ? "SecretNotFound" : "InvalidSecret"), result: .requeueAfter(30)
                )
            }
            if let pem = field("tls.crt"), let key = field("tls.key"), let leaf = try? PKI.load(certificatePEM: pem, privateKeyPEM: key) {
                userCertificate = CertificateStatus(notAfter: leaf.notAfter.formatted(.iso8601), serial: leaf.serial)
            }
        }

        let name = stack.metadata.name ?? ""
        let ns = stack.metadata.namespace ?? ""
        // The user's Secrets the spec names must exist with their keys before anything
        // rolls. Those the collector reads at start enter the pod-template hash, so that a
        // changed password or CA rolls the pods (their values are hashed, never kept); the
        // Alertmanager receivers' go into the Alertmanager Secret only (never logged, never
        // in status or events). Each Secret is read once, however many fields name it.
        var referenced: [String] = []
        var alertSecrets = AlertReceiverSecrets()
        var read: [String: Secret?] = [:]
        for ref in StackReferences.secrets(stack) where ref.rollsCollector || ref.alertReceiver != nil {
            let secret: Secret?
            if let cached = read[ref.secret] {
                secret = cached
            } else {
                secret = try await writer.readSecret(namespace: ns, name: ref.secret)
                read[ref.secret] = .some(secret)
            }
            func text(_ key: String) -> String? { secret?.data?[key].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } }
            // A receiver's value must also decode; the collector's are passed on as they are.
            let missingKeys = ref.keys.filter { secret?.data?[$0] == nil || (ref.alertReceiver != nil && text($0) == nil) }
            if secret == nil || !missingKeys.isEmpty {
                let message = secret == nil
                    ? "Secret \(ref.secret) named by \(ref.field) does not exist in namespace \(ns)"
                    : "Secret \(ref.secret) named by \(ref.field) has no key \(missingKeys.joined(separator: ", "))"
                return try await reject(
                    stack, reason: secret == nil ? "SecretNotFound" : "SecretKeyNotFound", message: message,
                    ready: "a referenced Secret is missing; running collectors are left untouched", log: log
                )
            }
            if ref.rollsCollector {
                referenced.append(ref.secret + ":" + ref.keys.map { "\($0)=\(secret?.data?[$0] ?? "")" }.joined(separator: ","))
            }
            if let kind = ref.alertReceiver, let value = text(ref.keys[0]) {
                let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
                switch kind {
                case .slackWebhookURL: alertSecrets.slackWebhookURL = trimmed
                case .pagerDutyRoutingKey: alertSecrets.pagerDutyRoutingKey = trimmed
                case .smtpPassword: alertSecrets.smtpPassword = value
                }
            }
        }
        var credentials: CredentialManager.Outcome? = nil
        if eff.basicAuth, let secrets = store(for: Secret.resource) {
            // Each declared client's live Secret, where Vigil can see it.
            var liveClients: [String: Unstructured?] = [:]
            for c in eff.clients where watchNamespace == nil || c.namespace == watchNamespace {
                liveClients[c.name] = .some(secrets.get("\(c.namespace)/\(Naming.otlpClient(name))"))
            }
            credentials = try CredentialManager(secrets: secrets).reconcile(
                stack, now: now(), liveDaemonSet: store(for: Kinds.daemonSet)?.get("\(ns)/\(Naming.collector(name))"), clientSecrets: liveClients
            )
            // Client Secrets live in other namespaces: only a finalizer can remove them.
            if !eff.clients.isEmpty, stack.metadata.finalizers?.contains(ClientSecrets.finalizer) != true {
                stack = try await writer.applyFinalizers([ClientSecrets.finalizer], of: stack)
                stacks.upsert(stack)
            }
        }
        let htpasswdHash = credentials?.materialHash ?? ""
        let material = referenced.isEmpty ? htpasswdHash : sha256Hex(Array((htpasswdHash + "\n" + referenced.sorted().joined(separator: "\n")).utf8))
        // Egress to the API server names its real addresses.
        let apiServer = eff.networkPolicy ? try await writer.apiServerEndpoints() : []
        let monitoring = monitoringKinds()
        var rendered = try DesiredState.render(
            stack,
            inputs: RenderInputs(mountedMaterialHash: material, htpasswdHash: htpasswdHash, apiServer: apiServer, monitoringKinds: monitoring, alertSecrets: alertSecrets)
        )
        rendered.objects.insert(contentsOf: credentials?.objects ?? [], at: 0)
        var result = ReconcileResult.done
        if let after = credentials?.requeueAfter { result = .requeueAfter(after) }
        if userCertificate != nil { result = Self.earliest(result, .requeueAfter(300)) }
        var certificate: CertificateManager.Outcome? = nil
        if eff.tlsMode == "SelfSigned", let secrets = store(for: Secret.resource) {
            let outcome = try CertificateManager(secrets: secrets).reconcile(stack, now: now())
            // Secrets first: the pods mount them.
            rendered.objects.insert(contentsOf: outcome.objects, at: 0)
            result = Self.earliest(result, .requeueAfter(outcome.requeueAfter))
            certificate = outcome
        }
        var unwatched: [String] = []
        // A declared client's Secret is kept even while it may not be rewritten (a rollout
        // is under way): it holds a credential every running pod accepts.
        var keep = Set<String>()
        var clientKeys: [String: String] = [:]
        if let credentials {
            for c in eff.clients {
                if let w = watchNamespace, c.namespace != w {
                    unwatched.append(c.namespace)
                    continue
                }
                let key = "secrets/\(c.namespace)/\(Naming.otlpClient(name))"
                keep.insert(key)
                clientKeys[key] = c.name
            }
            for o in try ClientSecrets.objects(
                stack, state: credentials.state, publishable: credentials.publishable, bundle: certificate?.bundle,
                clientCertificates: certificate?.clientCertificates ?? [:]
            )
            where keep.contains(o.key) {
                rendered.objects.append(o)
            }
        }
        let live = ownedObjects(of: stack)
        let desiredKeys = Set(rendered.objects.map(\.key)).union(keep)
        // A removed client's Secret goes before its credential leaves the file.
        try await prune(live.filter { $0.value.metadata.namespace != ns }, keeping: desiredKeys, log: log)
        var applied = 0
        var appliedKeys: [String] = []
        var missingNamespaces: [String] = []
        var published = Set<String>()
        for object in rendered.objects {
            // The Prometheus Operator's kinds are not cached: read the one object.
            let current = store(for: object.resource) == nil
                ? try await writer.readObject(object.resource, namespace: object.namespace, name: object.name)
                : live[object.key]
            guard Self.needsApply(object, live: current) else {
                if let c = clientKeys[object.key] { published.insert(c) }
                continue
            }
            do {
                let result = try await writer.apply(object)
                store(for: object.resource)?.upsert(result)
                applied += 1
                appliedKeys.append(object.key)
                if let c = clientKeys[object.key] { published.insert(c) }
            } catch let e as KubeAPIError where e.isNotFound && object.namespace != stack.metadata.namespace {
                // A client whose namespace does not exist: the others proceed.
                missingNamespaces.append(object.namespace ?? "")
            } catch let e as KubeAPIError where e.isNotFound && store(for: object.resource) == nil {
                // The Prometheus Operator's CRD went away since discovery last looked: the
                // next discovery switches to the ConfigMap; look again then.
                log.warning("\(object.resource.kind) is no longer served; waiting for discovery", metadata: ["object": "\(object.key)"])
                result = Self.earliest(result, .requeueAfter(5))
            } catch let e as KubeAPIError where e.code == 422 || (e.code == 400 && e.reason == "BadRequest") {
                // The API server refuses what the spec produced (a resource quantity it
                // cannot parse, say): say so, naming the object and the server's field,
                // and wait for the spec to change instead of retrying.
                return try await reject(
                    stack, reason: "ObjectRejected", message: "the API server refused \(object.resource.kind) \(object.name): \(e.message)",
                    ready: "an object could not be applied; the others are as they were", log: log
                )
            }
        }
        // Record which clients hold the current generation: one whose Secret then
        // disappears was deleted by hand, and its credential is rotated.
        if var state = credentials?.state {
            let holding = state.published.union(published).intersection(Set(eff.clients.map(\.name)))
            if holding != state.published {
                state.published = holding
                let object = try CredentialManager.credentialsObject(state, for: stack)
                store(for: Secret.resource)?.upsert(try await writer.apply(object))
                applied += 1
                appliedKeys.append(object.key)
            }
        }
        if !missingNamespaces.isEmpty { result = Self.earliest(result, .requeueAfter(30)) }
        try await prune(live, keeping: desiredKeys, log: log)
        if applied > 0 { log.info("applied", metadata: ["objects": "\(applied)", "keys": "\(appliedKeys.prefix(4).joined(separator: " "))\(applied > 4 ? " …" : "")"]) }

        var conditions = [
            (ConditionType.configValid, true, "Rendered", "the collector config is valid"),
            (ConditionType.ready, true, "Reconciled", "all objects are applied"),
            collectorAvailability(stack),
        ]
        if let certificate {
            conditions.append((ConditionType.certificateReady, true, "Issued", "serving certificate \(certificate.status.serial ?? "") valid until \(certificate.status.notAfter ?? "")"))
        }
        if let credentials {
            let n = eff.clients.count
            let waiting = eff.clients.filter { !credentials.publishable.contains($0.name) && !unwatched.contains($0.namespace) }.map(\.name)
            if !unwatched.isEmpty {
                let list = unwatched.sorted().joined(separator: ", ")
                conditions.append((ConditionType.credentialsReady, false, "NamespaceNotWatched", "Vigil watches only namespace \(watchNamespace ?? ""); no client Secret is published to \(list)"))
            } else if !missingNamespaces.isEmpty {
                let list = missingNamespaces.sorted().joined(separator: ", ")
                conditions.append((ConditionType.credentialsReady, false, "NamespaceNotFound", "client namespace(s) not found: \(list); the other clients have their Secrets"))
            } else if !waiting.isEmpty {
                conditions.append(
                    (ConditionType.credentialsReady, false, "WaitingForRollout",
                     "the collector is rolling onto the htpasswd file; \(waiting.sorted().joined(separator: ", ")) get their Secret when every pod has it")
                )
            } else {
                let phase = credentials.state.phase == .stable ? "" : ", rotation phase \(credentials.state.phase.rawValue)"
                conditions.append(
                    (ConditionType.credentialsReady, true, "Issued", "\(n) client credential(s), generation \(credentials.state.generation)\(phase), published")
                )
            }
        }
        let externalHosts = NetworkPolicyRender.externalHosts(stack)
        var policyWarning: String? = nil
        if !eff.networkPolicy {
            conditions.append((ConditionType.networkPolicyReady, true, "Disabled", "no NetworkPolicy: turned off by the environment profile or spec.networkPolicy.enabled"))
        } else if !externalHosts.isEmpty {
            let to = (stack.spec.networkPolicy?.egressTo ?? []).isEmpty
                ? "to every address (set spec.networkPolicy.egressTo to their CIDRs to narrow it)"
                : "to \(stack.spec.networkPolicy?.egressTo?.joined(separator: ", ") ?? "")"
            let message = "a NetworkPolicy cannot name a host: egress to \(externalHosts.joined(separator: ", ")) is open by port only, \(to)"
            conditions.append((ConditionType.networkPolicyReady, true, "ExternalBackendsOpenByPort", message))
            if stack.status?.condition(ConditionType.networkPolicyReady)?.message != message { policyWarning = message }
        } else {
            conditions.append((ConditionType.networkPolicyReady, true, "Applied", "ingress and egress of the collector pods are limited to their peers and backends"))
        }
        if let userCertificate {
            conditions.append((ConditionType.certificateReady, true, "SecretValid", "user certificate \(userCertificate.serial ?? "") valid until \(userCertificate.notAfter ?? "")"))
        }
        var status = nextStatus(stack, conditions: conditions, configHash: rendered.configHash)
        status.collectors = collectorCounts(stack)
        status.certificate = certificate?.status ?? userCertificate
        status.credentials = credentials?.status
        if try await writeStatus(status, of: stack), stack.status?.condition(ConditionType.ready)?.status != "True" {
            await events.record(stack, type: .normal, reason: "Reconciled", message: "all objects are applied")
        }
        if let policyWarning {
            log.warning("network policy: \(policyWarning)")
            await events.record(stack, type: .warning, reason: "EgressOpenByPort", message: policyWarning)
        }
        for step in credentials?.steps ?? [] {
            log.info("credentials: \(step.message)", metadata: ["generation": "\(credentials?.state.generation ?? 0)"])
            await events.record(stack, type: .normal, reason: step.reason, message: step.message)
        }
        if let event = certificate?.event {
            log.info("certificates updated", metadata: ["steps": "\(event)", "serial": "\(certificate?.status.serial ?? "")"])
            await events.record(stack, type: .normal, reason: "CertificateIssued", message: event)
        }
        return result
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

    /// The sooner of two results.
    static func earliest(_ a: ReconcileResult, _ b: ReconcileResult) -> ReconcileResult {
        switch (a, b) {
        case (.requeueAfter(let x), .requeueAfter(let y)): return .requeueAfter(min(x, y))
        case (.requeueAfter, _): return a
        default: return b
        }
    }

    /// Records why a stack cannot be applied, once (status and a Warning event on the
    /// transition), and touches nothing else. By default the `ConfigValid` condition
    /// carries the reason and it is not retried until the spec changes.
    func reject(
        _ stack: ObservabilityStack, reason: String, message: String, ready: String, log: Logger,
        condition: (type: String, reason: String)? = nil, result: ReconcileResult? = nil
    ) async throws -> ReconcileResult {
        let failed = condition ?? (ConditionType.configValid, reason)
        let status = nextStatus(
            stack,
            conditions: [(failed.type, false, failed.reason, message), (ConditionType.ready, false, reason, ready)],
            configHash: stack.status?.configHash
        )
        if try await writeStatus(status, of: stack) {
            log.warning("cannot apply the stack", metadata: ["reason": "\(reason)", "message": "\(message)"])
            await events.record(stack, type: .warning, reason: reason, message: message)
        }
        return result ?? .terminal(message)
    }

    /// The agents' DaemonSet status, as the controller manager reports it.
    func collectorCounts(_ stack: ObservabilityStack) -> CollectorsStatus {
        let ds = store(for: Kinds.daemonSet)?.get("\(stack.metadata.namespace ?? "")/\(Naming.collector(stack.metadata.name ?? ""))")
        let status = ds?.object["status"]
        return CollectorsStatus(desired: status?["desiredNumberScheduled"]?.intValue ?? 0, ready: status?["numberReady"]?.intValue ?? 0)
    }

    func collectorAvailability(_ stack: ObservabilityStack) -> (String, Bool, String, String) {
        let c = collectorCounts(stack)
        if (c.desired ?? 0) == 0 {
            return (ConditionType.collectorAvailable, false, "NoNodesScheduled", "no node runs a collector pod yet")
        }
        if (c.ready ?? 0) < (c.desired ?? 0) {
            return (ConditionType.collectorAvailable, false, "Progressing", "\(c.ready ?? 0) of \(c.desired ?? 0) collector pods are ready")
        }
        return (ConditionType.collectorAvailable, true, "AllReady", "all \(c.desired ?? 0) collector pods are ready")
    }

    /// Puts an object in the cache of its kind, as a watch event would (tests).
    public func testUpsert(_ object: Unstructured, kind: ResourceDescriptor = Secret.resource) {
        store(for: kind)?.upsert(object)
    }

    /// The cache of one owned kind.
    func store(for resource: ResourceDescriptor) -> Store<Unstructured>? {
        owned.first { $0.resource == resource }?.store
    }

    /// The client Secrets of this stack, in any namespace, found by their labels.
    func clientSecrets(of stack: ObservabilityStack) -> [Unstructured] {
        let instance = Naming.shorten(stack.metadata.name ?? "")
        return store(for: Secret.resource)?.filter {
            $0.metadata.labels?[ClientSecrets.stackNamespaceLabel] == stack.metadata.namespace && $0.metadata.labels?[Labels.instance] == instance
                && $0.metadata.labels?[Labels.managedBy] == Labels.managerValue
        } ?? []
    }

    /// Live objects whose controller is this stack, and its client Secrets, keyed like
    /// `DesiredObject.key`.
    func ownedObjects(of stack: ObservabilityStack) -> [String: Unstructured] {
        var result: [String: Unstructured] = [:]
        for o in clientSecrets(of: stack) {
            result["secrets/\(o.metadata.namespace ?? "")/\(o.metadata.name ?? "")"] = o
        }
        guard let uid = stack.metadata.uid else { return result }
        for kind in owned {
            for o in kind.store.filter({ $0.metadata.namespace == stack.metadata.namespace && $0.metadata.controllerOwner?.uid == uid }) {
                result["\(kind.resource.plural)/\(o.metadata.namespace ?? "")/\(o.metadata.name ?? "")"] = o
            }
        }
        return result
    }

    /// Apply when the object is missing, when the desired object changed since it was last
    /// applied (its hash annotation), or when someone edited a field Vigil owns.
    public static func needsApply(_ desired: DesiredObject, live: Unstructured?) -> Bool {
        guard let live else { return true }
        if live.metadata.annotations?[Labels.desiredHashAnnotation] != desired.hash { return true }
        guard case .object(var body) = desired.body else { return true }
        // Lists may omit apiVersion and kind on their items.
        body["apiVersion"] = nil
        body["kind"] = nil
        return !JSONValue.object(body).isSubset(of: live.object)
    }

    /// The status to write: conditions keep their transition time while their status holds.
    func nextStatus(_ stack: ObservabilityStack, conditions: [(String, Bool, String, String)], configHash: String?) -> StackStatus {
        let old = stack.status
        var status = old ?? StackStatus()
        let time = now().formatted(.iso8601)
        let gen = stack.metadata.generation
        // Only Vigil's own condition types: others' (conditions are a map by type) stay
        // theirs, untouched by Vigil's apply.
        var merged = (old?.conditions ?? []).filter { ConditionType.all.contains($0.type) }
        for (type, ok, reason, message) in conditions {
            let s = ok ? "True" : "False"
            let previous = merged.first { $0.type == type }
            let transition = previous?.status == s ? previous!.lastTransitionTime : time
            let c = Condition(type: type, status: s, reason: reason, message: message, lastTransitionTime: transition, observedGeneration: gen)
            if let i = merged.firstIndex(where: { $0.type == type }) { merged[i] = c } else { merged.append(c) }
        }
        status.conditions = merged.sorted { $0.type < $1.type }
        status.observedGeneration = gen
        status.configHash = configHash
        let name = stack.metadata.name ?? ""
        let ns = stack.metadata.namespace ?? ""
        let scheme = EffectiveSpec(stack.spec).tlsEnabled ? "https" : "http"
        let host = "\(Naming.collector(name)).\(ns).svc"
        status.endpoints = EndpointsStatus(grpc: "\(scheme)://\(host):\(CollectorPorts.otlpGRPC)", http: "\(scheme)://\(host):\(CollectorPorts.otlpHTTP)")
        return status
    }

    /// Writes status if it differs from the cached one; returns whether it wrote.
    func writeStatus(_ status: StackStatus, of stack: ObservabilityStack) async throws -> Bool {
        // Compared without others' conditions, which Vigil neither writes nor owns.
        var current = stack.status
        let own = current?.conditions?.filter { ConditionType.all.contains($0.type) }
        current?.conditions = own
        if current == status { return false }
        let live = try await writer.applyStatus(status, of: stack)
        stacks.upsert(live)
        return true
    }
}
