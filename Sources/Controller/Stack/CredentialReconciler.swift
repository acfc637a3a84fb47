import Foundation
import KubeModel
import Render
import Rotation

extension PodSecretUse {
    /// Whether the pod started at or before `date`. Start times are whole seconds: a pod of
    /// that very second may have read either content, so it counts as not yet moved. A pod
    /// not started yet reads whatever is current when it starts.
    func started(atOrBefore date: Date) -> Bool {
        guard let s = startTime, let started = try? Date(s, strategy: .iso8601) else { return false }
        return started <= date
    }

    /// `namespace/name`.
    var key: String { "\(metadata.namespace ?? "")/\(metadata.name ?? "")" }
}

/// BasicAuth credentials of one stack and their rotation. The state lives on the
/// `<stack>-credentials` Secret (passwords, hashes, phase, generation, deadlines as
/// annotations), the htpasswd file the collector mounts is derived from it, and
/// `CredentialPlanner` decides each step. A password is hashed once, when it is made; a
/// converged stack hashes nothing.
public struct CredentialReconciler: Sendable {
    public struct Outcome: Sendable {
        public var state: CredentialState
        /// Clients whose Secret may be written now with `state.current(client)`: the
        /// credential is in the file of every collector pod that could be running.
        public var publishable: Set<String>
        public var status: CredentialsStatus
        /// sha256 of the htpasswd file: part of the pod-template hash, so the collector
        /// (which reads the file once, at start) rolls when it changes.
        public var materialHash: String
        /// Secret-free reasons and messages of the steps taken, for events.
        public var steps: [(reason: String, message: String)]
        /// The next deadline, in seconds from now.
        public var requeueAfter: Double?
        /// Why the recorded state had to be rebuilt (its Secret was gone), for a Warning.
        public var recovered: String? = nil
        /// In Overlap: pods (`namespace/name`) still holding the previous generation.
        public var staleConsumers: [String] = []
        /// Pods that still held the previous generation when `maxOverlap` forced it out.
        public var forcedOut: [String] = []

        /// The material Render turns into the credentials and htpasswd Secrets, and the
        /// client Secrets of `clients` (those Vigil may write: declared, in a watched
        /// namespace) that are publishable now.
        public func material(_ ctx: StackContext, clients: [ClientRef]) -> CredentialMaterial {
            let state = self.state
            let secrets = clients.compactMap { c -> ClientCredential? in
                // A recovered generation's passwords are unknown (empty): never published.
                guard publishable.contains(c.name), let password = state.current(c.name)?.password, !password.isEmpty else { return nil }
                return ClientCredential(
                    client: c.name, namespace: c.namespace, username: CredentialState.username(c.name, generation: state.generation), password: password,
                    generation: state.generation
                )
            }
            return CredentialReconciler.material(state, clientSecrets: secrets)
        }
    }

    let secrets: Store<Unstructured>
    let makeCredential: @Sendable (_ cost: Int) throws -> Credential

    /// `secrets` caches the stack's managed Secrets; `makeCredential` draws a password and
    /// hashes it (`system`: the CSPRNG and bcrypt).
    public init(secrets: Store<Unstructured>, makeCredential: @escaping @Sendable (Int) throws -> Credential = CredentialReconciler.system) {
        self.secrets = secrets
        self.makeCredential = makeCredential
    }

    public static let system: @Sendable (Int) throws -> Credential = { cost in
        let password = Htpasswd.password()
        return Credential(password: password, hash: try Htpasswd.bcrypt(password, cost: cost))
    }

    /// The state an htpasswd file implies when its record is lost: the newest generation
    /// of its `<client>-g<N>` entries, with their hashes (the passwords are not known, so
    /// nothing of it is ever published again). Nil when the file holds none of the clients.
    static func recover(file: String, clients: [String], now: Date, request: String?) -> CredentialState? {
        var byGeneration: [Int: [String: Credential]] = [:]
        for line in file.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, let dash = parts[0].range(of: "-g", options: .backwards), let g = Int(parts[0][dash.upperBound...]) else { continue }
            let client = String(parts[0][..<dash.lowerBound])
            guard clients.contains(client) else { continue }
            byGeneration[g, default: [:]][client] = Credential(password: "", hash: parts[1])
        }
        guard let newest = byGeneration.keys.max() else { return nil }
        // The rotate annotation already there was acted on before: it starts nothing new.
        return CredentialState(
            generation: newest, phase: .stable, since: now, rotatedAt: now, credentials: [newest: byGeneration[newest]!], published: [], handledRequest: request
        )
    }

    static func date(_ s: String?) -> Date? { s.flatMap { try? Date($0, strategy: .iso8601) } }

    /// The state recorded on the credentials Secret, or a fresh one.
    static func state(from secret: Unstructured?, now: Date) -> CredentialState {
        let a = secret?.metadata.annotations ?? [:]
        var s = CredentialState(
            generation: Int(a[Annotations.credentialGeneration] ?? "") ?? 1,
            phase: CredentialPhase(rawValue: a[Annotations.credentialPhase] ?? "") ?? .stable,
            since: date(a[Annotations.credentialPhaseSince]) ?? now,
            rotatedAt: date(a[Annotations.credentialRotatedAt]) ?? now,
            published: Set((a[Annotations.publishedClients] ?? "").split(separator: ",").map(String.init)),
            handledRequest: a[Annotations.rotationRequestHandled]
        )
        for key in (secret?.object["data"]?.objectValue ?? [:]).keys where key.hasPrefix("g") && !key.hasSuffix(".bcrypt") {
            let parts = key.dropFirst().split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let g = Int(parts[0]) else { continue }
            let client = String(parts[1])
            guard let password = secret?.secretString(key), let hash = secret?.secretString(key + ".bcrypt") else { continue }
            s.credentials[g, default: [:]][client] = Credential(password: password, hash: hash)
        }
        return s
    }

    /// A state as plain material for Render.
    public static func material(_ state: CredentialState, clientSecrets: [ClientCredential] = []) -> CredentialMaterial {
        CredentialMaterial(
            generation: state.generation, phase: state.phase.rawValue, phaseSince: state.since.formatted(.iso8601), rotatedAt: state.rotatedAt.formatted(.iso8601),
            published: state.published, handledRequest: state.handledRequest,
            credentials: state.credentials.mapValues { $0.mapValues { StoredCredential(password: $0.password, hash: $0.hash) } },
            htpasswd: state.file, clientSecrets: clientSecrets
        )
    }

    /// Whether every collector pod runs the htpasswd file with this hash: the live
    /// DaemonSet's template carries it, and its status (for that generation of the
    /// template) counts every scheduled pod updated and available.
    public static func rolledOut(_ ds: Unstructured?, htpasswdHash: String) -> Bool {
        guard let ds else { return false }
        let o = ds.object
        let template = o["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.htpasswdHash]?.stringValue
        guard template == htpasswdHash else { return false }
        let status = o["status"]
        guard let observed = status?["observedGeneration"]?.intValue, let generation = ds.metadata.generation, observed >= generation else { return false }
        let desired = status?["desiredNumberScheduled"]?.intValue ?? 0
        return (status?["updatedNumberScheduled"]?.intValue ?? 0) >= desired && (status?["numberAvailable"]?.intValue ?? 0) >= desired
            && (status?["numberUnavailable"]?.intValue ?? 0) == 0
    }

    /// Plans and takes the credential steps due now. `liveDaemonSet` is the agents'
    /// DaemonSet from the cache; `clientSecrets` maps each declared client whose namespace
    /// Vigil watches to its live Secret (nil when absent).
    /// The consumers that started before `state`'s generation was published (in Overlap;
    /// none otherwise): they read the client Secret at start, so they send the previous one.
    static func stale(_ consumers: [PodSecretUse], _ state: CredentialState) -> [String] {
        guard state.phase == .overlap else { return [] }
        return consumers.filter { $0.started(atOrBefore: state.rotatedAt) }.map(\.key).sorted()
    }

    /// `consumers`: the pods that read the stack's client Secrets.
    public func reconcile(
        _ ctx: StackContext, now: Date, liveDaemonSet: Unstructured?, clientSecrets: [String: Unstructured?], consumers: [PodSecretUse] = []
    ) throws -> Outcome {
        let eff = ctx.spec
        let policy = CredentialPolicy(interval: eff.rotationIntervalSeconds, overlap: eff.rotationOverlapSeconds, maxOverlap: eff.rotationMaxOverlapSeconds)
        let request = Annotations.rotateCredentialsRequest(ctx.stack.metadata.annotations)
        let cost = eff.bcryptCost
        let record = secrets.get("\(ctx.namespace)/\(ctx.names.credentials)")
        var state = Self.state(from: record, now: now)
        var steps: [(reason: String, message: String)] = []
        var recovered: String? = nil
        let makeCredential = self.makeCredential
        // The record is gone but the collector's file is not: clients still hold what the
        // file accepts. Rotate away from it as a rotation does, the old hashes staying in
        // the file until every client holds the new generation, never a hard switch.
        if record == nil, let file = secrets.get("\(ctx.namespace)/\(ctx.names.htpasswd)")?.secretString("htpasswd"),
            let old = Self.recover(file: file, clients: eff.clients.map(\.name), now: now, request: request)
        {
            state = try CredentialPlanner.apply(.startRotation(reason: "recovered"), to: old, now: now, request: nil) { _ in try makeCredential(cost) }
            recovered = "the credentials Secret \(ctx.names.credentials) was gone: generation \(old.generation), still in the htpasswd file, stays valid while every client moves to generation \(old.generation + 1)"
        }
        var rolledOut = Self.rolledOut(liveDaemonSet, htpasswdHash: sha256Hex(Array(state.file.utf8)))
        var wait: Date? = nil
        var forcedOut: [String] = []
        // A few steps can follow one another at once (a client removed, then added).
        for _ in 0..<6 {
            let holding = clientSecrets.allSatisfy { _, secret in
                secret.map { $0.metadata.annotations?[Annotations.credentialGeneration] == String(state.generation) } ?? true
            }
            let exposed = state.phase == .stable ? state.published.filter { c in clientSecrets[c].map { $0 == nil } ?? false }.sorted() : []
            var observation = CredentialObservation(
                clients: eff.clients.map(\.name), now: now, rolledOut: rolledOut, request: request, exposed: exposed, clientsHoldGeneration: holding
            )
            observation.staleConsumers = Self.stale(consumers, state)
            let step = CredentialPlanner.plan(state, observation, policy: policy)
            if case .dropPrevious = step { forcedOut += observation.staleConsumers }
            if case .wait(let until) = step {
                wait = until
                break
            }
            steps.append(CredentialPlanner.describe(step, state))
            let fileBefore = state.file
            state = try CredentialPlanner.apply(step, to: state, now: now, request: request) { _ in try makeCredential(cost) }
            if state.file != fileBefore { rolledOut = false }
        }
        // Safe to publish: the credential is in every running pod's file, or the client
        // already holds it (it was published when it was, and the file still has it).
        var publishable = Set<String>()
        for c in eff.clients.map(\.name) where state.current(c) != nil {
            if rolledOut || state.published.contains(c) { publishable.insert(c) }
        }
        var status = CredentialsStatus(
            generation: state.generation, rotatedAt: state.rotatedAt.formatted(.iso8601),
            nextRotation: state.rotatedAt.addingTimeInterval(policy.interval).formatted(.iso8601)
        )
        status.phase = state.phase.rawValue
        status.phaseSince = state.since.formatted(.iso8601)
        let staleConsumers = Self.stale(consumers, state)
        if state.phase == .overlap {
            status.previousRemovedAfter = state.since.addingTimeInterval(policy.overlap).formatted(.iso8601)
            status.previousRemovedBy = state.since.addingTimeInterval(policy.maxOverlap).formatted(.iso8601)
            if !staleConsumers.isEmpty { status.staleConsumers = staleConsumers }
        }
        return Outcome(
            state: state, publishable: publishable, status: status, materialHash: sha256Hex(Array(state.file.utf8)),
            steps: steps, requeueAfter: wait.map { max(1, $0.timeIntervalSince(now)) }, recovered: recovered, staleConsumers: staleConsumers,
            forcedOut: forcedOut
        )
    }
}
