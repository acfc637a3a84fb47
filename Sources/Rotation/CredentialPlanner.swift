import Foundation

/// One client's credential in one generation. Never printed: `description` hides it.
public struct Credential: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    public var password: String
    public var hash: String
    public init(password: String, hash: String) {
        self.password = password
        self.hash = hash
    }
    public var description: String { "Credential(redacted)" }
    public var debugDescription: String { description }
}

/// Where a stack's credential rotation stands.
///
/// - `stable`: the htpasswd file holds `generation`, and so do the client Secrets.
/// - `rollingOut`: `generation + 1` joined the file beside `generation`; the collector
///   rolls onto it while the client Secrets still hold `generation`.
/// - `overlap`: every collector pod has both; the client Secrets hold `generation` (the new
///   one) and `generation - 1` stays valid until the overlap ends.
public enum CredentialPhase: String, Sendable, Hashable, Codable, CaseIterable {
    case stable = "Stable"
    case rollingOut = "RollingOut"
    case overlap = "Overlap"
}

/// A stack's credentials and rotation state, as recorded on its credentials Secret, so
/// that a restarted operator resumes exactly where it stopped.
public struct CredentialState: Sendable, Hashable {
    /// The generation the client Secrets hold (or are about to).
    public var generation: Int
    public var phase: CredentialPhase
    /// When the phase began.
    public var since: Date
    /// When `generation` was published: the rotation interval counts from here.
    public var rotatedAt: Date
    /// Credentials by generation, then by client name.
    public var credentials: [Int: [String: Credential]]
    /// Clients whose Secret was written with `generation`.
    public var published: Set<String>
    /// The last value of the rotate annotation that was acted on.
    public var handledRequest: String?

    public init(
        generation: Int = 1, phase: CredentialPhase = .stable, since: Date, rotatedAt: Date, credentials: [Int: [String: Credential]] = [:],
        published: Set<String> = [], handledRequest: String? = nil
    ) {
        self.generation = generation
        self.phase = phase
        self.since = since
        self.rotatedAt = rotatedAt
        self.credentials = credentials
        self.published = published
        self.handledRequest = handledRequest
    }

    /// The generations in the htpasswd file, oldest first.
    public var fileGenerations: [Int] {
        switch phase {
        case .stable: return [generation]
        case .rollingOut: return [generation, generation + 1]
        case .overlap: return [generation - 1, generation]
        }
    }

    /// The username of a client in a generation: unique per generation, so that two
    /// generations can sit side by side in one file.
    public static func username(_ client: String, generation: Int) -> String { "\(client)-g\(generation)" }

    /// The htpasswd entries, by generation then client.
    public var entries: [(user: String, hash: String)] {
        fileGenerations.flatMap { g in
            (credentials[g] ?? [:]).sorted { $0.key < $1.key }.map { (Self.username($0.key, generation: g), $0.value.hash) }
        }
    }

    /// The htpasswd file the collector mounts.
    public var file: String { Htpasswd.file(entries) }

    /// The credential a client's Secret carries in this state.
    public func current(_ client: String) -> Credential? { credentials[generation]?[client] }
}

/// What the planner sees besides the state.
public struct CredentialObservation: Sendable {
    /// The declared clients.
    public var clients: [String]
    public var now: Date
    /// Every collector pod runs the htpasswd file of the state (as the DaemonSet's status
    /// says, for a template carrying that file's hash).
    public var rolledOut: Bool
    /// The value of the rotate annotation, if set.
    public var request: String?
    /// Clients whose published Secret is gone: deleted by hand, so treated as exposed.
    public var exposed: [String]
    /// Every client Secret that exists holds `generation`.
    public var clientsHoldGeneration: Bool

    /// Pods using a client Secret that started before the current generation was published.
    public var staleConsumers: [String] = []
    public init(clients: [String], now: Date, rolledOut: Bool, request: String? = nil, exposed: [String] = [], clientsHoldGeneration: Bool) {
        self.clients = clients
        self.now = now
        self.rolledOut = rolledOut
        self.request = request
        self.exposed = exposed
        self.clientsHoldGeneration = clientsHoldGeneration
    }
}

/// Rotation timing: a new generation every `interval`; the old one stays valid for
/// `overlap` after the new one is published.
public struct CredentialPolicy: Sendable, Hashable {
    public var interval: TimeInterval
    /// The previous generation stays at least this long after the new one is published…
    public var overlap: TimeInterval
    /// …and then until every consumer restarted, but no longer than this.
    public var maxOverlap: TimeInterval
    public init(interval: TimeInterval, overlap: TimeInterval, maxOverlap: TimeInterval? = nil) {
        self.interval = interval
        self.overlap = overlap
        self.maxOverlap = max(overlap, maxOverlap ?? overlap)
    }
}

/// Decides the next credential step from the state, what is observed, and the time alone.
/// Every step is one change of the state; the operator records it before acting on it,
/// so a crash at any point plans the same step, or the next, again.
///
/// The invariant it keeps: a credential is published to a client only once every
/// collector pod that could be running has it in its file, and it leaves the file only
/// once no client Secret holds it.
public enum CredentialPlanner {
    public enum Step: Sendable, Hashable {
        /// Clients no longer declared: their credentials go.
        case forget([String])
        /// Declared clients without a credential in some generation of the file.
        case make([String])
        /// Step 1: a new generation joins the file beside the current one.
        case startRotation(reason: String)
        /// Step 2: every pod has the new file; clients get the new generation.
        case publish
        /// Step 3: the overlap is over and every client holds the new generation.
        case dropPrevious
        /// Nothing to do until `until` (nil: until something is observed to change).
        case wait(until: Date?)
    }

    public static func plan(_ state: CredentialState, _ o: CredentialObservation, policy: CredentialPolicy) -> Step {
        let declared = Set(o.clients)
        let known = Set(state.credentials.values.flatMap(\.keys))
        let gone = known.subtracting(declared)
        if !gone.isEmpty { return .forget(gone.sorted()) }
        let missing = o.clients.filter { c in state.fileGenerations.contains { state.credentials[$0]?[c] == nil } }
        if !missing.isEmpty { return .make(missing.sorted()) }
        switch state.phase {
        case .stable:
            let due = state.rotatedAt.addingTimeInterval(policy.interval)
            if let r = o.request, !r.isEmpty, r != state.handledRequest { return .startRotation(reason: "requested") }
            if !o.exposed.isEmpty { return .startRotation(reason: "client Secret deleted: \(o.exposed.sorted().joined(separator: ", "))") }
            if o.now >= due { return .startRotation(reason: "interval elapsed") }
            return .wait(until: due)
        case .rollingOut:
            return o.rolledOut ? .publish : .wait(until: nil)
        case .overlap:
            let end = state.since.addingTimeInterval(policy.overlap)
            if o.now < end { return .wait(until: end) }
            guard o.clientsHoldGeneration else { return .wait(until: nil) }
            // Pods that started before the publication still send the previous credential:
            // it stays until they restart, or `maxOverlap` forces it out.
            let latest = state.since.addingTimeInterval(policy.maxOverlap)
            if !o.staleConsumers.isEmpty, o.now < latest { return .wait(until: latest) }
            return .dropPrevious
        }
    }

    /// The state after a step. `make` makes a new credential (the caller's CSPRNG and
    /// bcrypt), so this stays pure.
    public static func apply(
        _ step: Step, to state: CredentialState, now: Date, request: String?, make: (String) throws -> Credential
    ) rethrows -> CredentialState {
        var s = state
        switch step {
        case .forget(let clients):
            for g in s.credentials.keys {
                for c in clients { s.credentials[g]?[c] = nil }
            }
            s.published.subtract(clients)
        case .make(let clients):
            for g in s.fileGenerations {
                for c in clients where s.credentials[g]?[c] == nil {
                    s.credentials[g, default: [:]][c] = try make(c)
                }
            }
        case .startRotation:
            let next = s.generation + 1
            var fresh: [String: Credential] = [:]
            for c in (s.credentials[s.generation] ?? [:]).keys.sorted() { fresh[c] = try make(c) }
            s.credentials[next] = fresh
            s.phase = .rollingOut
            s.since = now
            if let request, !request.isEmpty { s.handledRequest = request }
        case .publish:
            s.generation += 1
            s.phase = .overlap
            s.since = now
            s.rotatedAt = now
            s.published = []
        case .dropPrevious:
            s.credentials = s.credentials.filter { $0.key >= s.generation }
            s.phase = .stable
            s.since = now
        case .wait:
            break
        }
        return s
    }

    /// An event reason and a short, secret-free message for a step taken from `state`.
    public static func describe(_ step: Step, _ state: CredentialState) -> (reason: String, message: String) {
        switch step {
        case .forget(let c): return ("CredentialsRemoved", "credentials removed for \(c.joined(separator: ", "))")
        case .make(let c): return ("CredentialsIssued", "credentials made for \(c.joined(separator: ", "))")
        case .startRotation(let reason):
            return ("CredentialRotationStarted", "generation \(state.generation + 1) joined the htpasswd file beside generation \(state.generation) (\(reason)); the collector rolls")
        case .publish: return ("CredentialsPublished", "every collector pod has generation \(state.generation + 1); it is published to the client Secrets")
        case .dropPrevious: return ("PreviousCredentialsRemoved", "the overlap is over: generation \(state.generation - 1) left the htpasswd file; the collector rolls")
        case .wait: return ("Waiting", "waiting")
        }
    }
}
