import Foundation
import KubeModel
import Logging
import Render

/// What a reconcile asks of the queue.
public enum ReconcileResult: Sendable, Hashable {
    /// Converged; nothing scheduled.
    case done
    /// Converged; look again after this many seconds (a deadline).
    case requeueAfter(Double)
    /// The spec is invalid: recorded in status, not retried until the spec changes.
    case terminal(String)

    /// The sooner of two results.
    static func earliest(_ a: ReconcileResult, _ b: ReconcileResult) -> ReconcileResult {
        switch (a, b) {
        case (.requeueAfter(let x), .requeueAfter(let y)): return .requeueAfter(min(x, y))
        case (.requeueAfter, _): return a
        default: return b
        }
    }
}

/// Condition types of a stack's status.
public enum ConditionType: String, Sendable, Hashable, CaseIterable {
    case ready = "Ready"
    case configValid = "ConfigValid"
    case collectorAvailable = "CollectorAvailable"
    case certificateReady = "CertificateReady"
    case credentialsReady = "CredentialsReady"
    case networkPolicyReady = "NetworkPolicyReady"
    /// kstatus (Argo CD, Flux): True while Vigil is still bringing the stack to its desired
    /// state (the collector rolling out).
    case reconciling = "Reconciling"
    /// kstatus: True when Vigil cannot go on without a change from someone (a refused spec,
    /// an object that is not the stack's).
    case stalled = "Stalled"

    /// Vigil's own types: only these are written and compared; others' stay theirs.
    static let all: Set<String> = Set(allCases.map(\.rawValue))
}

/// One condition a sub-reconciler reports.
public struct StackCondition: Sendable, Hashable {
    public var type: ConditionType
    public var holds: Bool
    public var reason: String
    public var message: String

    public init(_ type: ConditionType, _ holds: Bool, reason: String, message: String) {
        self.type = type
        self.holds = holds
        self.reason = reason
        self.message = message
    }
}

/// An event to record on the stack (and the log line that goes with it).
public struct StackEvent: Sendable, Hashable {
    public var type: EventRecorder.EventType
    public var reason: String
    public var message: String
    /// The log line, with its metadata; secret-free like the event.
    public var log: String
    public var logMetadata: [String: String] = [:]
}

/// Why a stack is not applied: recorded once (status and a Warning event on the
/// transition), and nothing else is touched.
public struct Refusal: Error, Sendable, Hashable {
    public var reason: String
    public var message: String
    /// The Ready condition's message.
    public var ready: String
    /// The failed condition; `ConfigValid` by default.
    public var condition: ConditionType = .configValid
    public var conditionReason: String? = nil
    /// Not retried until something changes, unless a requeue is given.
    public var requeueAfter: Double? = nil
}

/// What one sub-reconciler adds to a reconcile: conditions, the next deadline, events and
/// its part of the status. The status sub-reconciler writes them once.
public struct Contribution: Sendable {
    public var conditions: [StackCondition] = []
    public var requeueAfter: Double? = nil
    public var events: [StackEvent] = []
    public var certificate: CertificateStatus? = nil
    public var credentials: CredentialsStatus? = nil

    public init() {}

    /// Conditions and events in order, the earliest deadline, and each status part.
    public mutating func merge(_ other: Contribution) {
        conditions += other.conditions
        events += other.events
        if let r = other.requeueAfter { requeueAfter = min(requeueAfter ?? r, r) }
        certificate = other.certificate ?? certificate
        credentials = other.credentials ?? credentials
    }

    var result: ReconcileResult { requeueAfter.map { .requeueAfter($0) } ?? .done }
}

/// The randomness a reconcile draws on, injected so that tests can fix it: passwords and
/// their hashes, certificates and their keys, and the reconcile id in the log.
public struct Entropy: Sendable {
    public var password: @Sendable () -> String
    public var bcrypt: @Sendable (_ password: String, _ cost: Int) throws -> String
    public var issuer: CertificateIssuer
    public var reconcileID: @Sendable () -> String

    public init(
        password: @escaping @Sendable () -> String, bcrypt: @escaping @Sendable (String, Int) throws -> String, issuer: CertificateIssuer,
        reconcileID: @escaping @Sendable () -> String
    ) {
        self.password = password
        self.bcrypt = bcrypt
        self.issuer = issuer
        self.reconcileID = reconcileID
    }
}

/// One reconcile of one stack: the resolved stack, the time it runs at, its logger.
public struct ReconcileContext: Sendable {
    public var stack: StackContext
    public var now: Date
    public var logger: Logger
}
