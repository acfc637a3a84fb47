import Foundation
import KubeClient
import KubeModel
import Logging
import Synchronization

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: the leader
/// renews every `retryPeriod`; a candidate takes the lease over once it has seen no change
/// to it for `leaseDuration` (by its own clock, so clock skew between nodes does not
/// matter). Standbys keep their caches warm; only the leader reconciles.
///
/// Leadership is bounded by the clock, not by requests: each attempt runs under what is
/// left of `renewDeadline` since the last renewal (single attempts, no client retries), and
/// `isLeader` turns false the moment that deadline passes, even while a request is still in
/// flight. Since `renewDeadline < leaseDuration`, a leader has stopped before any standby
/// can take over. A leader that lost the lease campaigns again as a standby.
public final class LeaderElector: Sendable {
    public struct Config: Sendable {
        public var namespace: String
        public var name: String
        public var identity: String
        /// controller-runtime's defaults.
        public var leaseDuration: Double = 15
        public var renewDeadline: Double = 10
        public var retryPeriod: Double = 2

        public init(namespace: String, name: String, identity: String) {
            self.namespace = namespace
            self.name = name
            self.identity = identity
        }
    }

    /// Thrown by a fenced write once leadership is lost: the write was not sent.
    public struct NotLeader: Error, CustomStringConvertible, Sendable {
        public var description: String { "not the leader: write not sent" }
        public init() {}
    }

    let client: any LeaseClient
    let clock: any ControllerClock
    public let config: Config
    let logger: Logger
    /// Whether this process holds the lease, and until when (monotonic seconds) that holds
    /// without another renewal.
    let leading = Mutex<(held: Bool, validUntil: Double)>((false, 0))
    let throttle = LogThrottle()
    /// The last lease seen, and when (monotonic) it last changed.
    let observed = Mutex<(spec: LeaseSpec?, at: Double)?>(nil)
    let onChange: @Sendable (Bool) -> Void

    public init(
        client: any LeaseClient, config: Config, clock: any ControllerClock = SystemClock(), logger: Logger, onChange: @escaping @Sendable (Bool) -> Void = { _ in }
    ) {
        self.client = client
        self.clock = clock
        self.config = config
        self.logger = logger
        self.onChange = onChange
    }

    /// True while the lease is held and its last renewal is less than `renewDeadline` old:
    /// writes are fenced on this.
    public var isLeader: Bool {
        let now = clock.now
        return leading.withLock { $0.held && now < $0.validUntil }
    }

    /// MicroTime as the API server writes it.
    static func microTime(_ d: Date) -> String {
        let whole = floor(d.timeIntervalSince1970)
        let micros = Int((d.timeIntervalSince1970 - whole) * 1_000_000)
        let base = Date(timeIntervalSince1970: whole).formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
        return base + "." + String(format: "%06d", micros) + "Z"
    }

    /// Campaigns, then renews, until cancelled. A leader that cannot renew within
    /// `renewDeadline` stops leading at that instant and campaigns again as a standby.
    public func run() async throws {
        let lease = "\(config.namespace)/\(config.name)"
        while !Task.isCancelled {
            let start = clock.now
            let (held, validUntil) = leading.withLock { ($0.held, $0.validUntil) }
            // A leader has what is left of its renew deadline; a candidate a whole one.
            let deadline = held ? validUntil : start + config.renewDeadline
            let renewed: Bool
            do {
                let clock = self.clock
                renewed = try await withDeadline(seconds: max(0, deadline - start), sleep: { try await clock.sleep(until: deadline) }) {
                    try await self.tryAcquireOrRenew()
                }
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                if let heldBack = throttle.allow("lease") {
                    logger.warning(
                        "leader election: lease request failed", metadata: ["lease": "\(lease)", "error": "\(error)", "similar_warnings_held_back": "\(heldBack)"])
                }
                renewed = false
            }
            if renewed {
                // Valid from when the attempt started: the server wrote the renewal later
                // than that, so every standby waits at least a lease duration past it.
                leading.withLock { $0 = (true, start + config.renewDeadline) }
                throttle.reset("lease")
                if !held {
                    logger.info("became leader", metadata: ["lease": "\(lease)", "identity": "\(config.identity)"])
                    onChange(true)
                }
            } else if held {
                // Not renewed: lost once the deadline has passed, or at once when the lease
                // is seen to name another holder.
                let expired = clock.now >= validUntil
                if expired || !isLeaseOurs() {
                    leading.withLock { $0 = (false, 0) }
                    onChange(false)
                    logger.error(
                        expired ? "leader election lost: no renewal within the renew deadline; stopped leading, standing by"
                            : "leader election lost: another holder took the lease; standing by",
                        metadata: ["lease": "\(lease)", "identity": "\(config.identity)", "renew_deadline_s": "\(config.renewDeadline)"]
                    )
                }
            }
            // A leader also wakes at its deadline, to stop on time.
            let state = leading.withLock { $0 }
            let next = state.held ? min(clock.now + config.retryPeriod, state.validUntil) : clock.now + config.retryPeriod
            do { try await clock.sleep(until: next) } catch { return }
        }
    }

    /// Whether the last lease seen names this process (false once another holder is seen).
    func isLeaseOurs() -> Bool {
        observed.withLock { $0?.spec?.holderIdentity == config.identity }
    }

    /// One round: create the lease, renew ours, or take over an expired one. Returns
    /// whether this process holds the lease now.
    func tryAcquireOrRenew() async throws -> Bool {
        let now = clock.wallNow
        guard let lease = try await client.lease(namespace: config.namespace, name: config.name) else {
            let spec = LeaseSpec(
                holderIdentity: config.identity, leaseDurationSeconds: Int(config.leaseDuration), acquireTime: Self.microTime(now),
                renewTime: Self.microTime(now), leaseTransitions: 0
            )
            guard try await client.createLease(Lease(metadata: ObjectMeta(name: config.name, namespace: config.namespace), spec: spec)) else { return false }
            let at = clock.now
            observed.withLock { $0 = (spec, at) }
            return true
        }
        let spec = lease.spec ?? LeaseSpec(holderIdentity: nil, leaseDurationSeconds: nil, acquireTime: nil, renewTime: nil, leaseTransitions: nil)
        // Track when the record last changed, by this process's monotonic clock.
        let nowSeconds = clock.now
        let seenAt = observed.withLock { o -> Double in
            if o?.spec != spec { o = (spec, nowSeconds) }
            return o!.at
        }
        let holder = spec.holderIdentity ?? ""
        let mine = holder == config.identity
        let duration = Double(spec.leaseDurationSeconds ?? Int(config.leaseDuration))
        let expired = holder.isEmpty || nowSeconds - seenAt > duration
        guard mine || expired else { return false }
        var next = spec
        next.holderIdentity = config.identity
        next.leaseDurationSeconds = Int(config.leaseDuration)
        next.renewTime = Self.microTime(now)
        if !mine {
            next.acquireTime = Self.microTime(now)
            next.leaseTransitions = (spec.leaseTransitions ?? 0) + 1
        }
        // Guarded by resourceVersion: of two candidates, one wins.
        let patch: JSONValue = [
            "metadata": ["resourceVersion": .string(lease.metadata.resourceVersion ?? "")],
            "spec": try JSONCoding.decode(JSONValue.self, from: JSONCoding.encode(next)),
        ]
        guard try await client.patchLease(patch, namespace: config.namespace, name: config.name) else { return false }
        let at = clock.now
        observed.withLock { $0 = (next, at) }
        return true
    }

    /// Gives the lease up on shutdown, so that a standby takes over at once.
    public func release() async {
        guard isLeader else { return }
        leading.withLock { $0 = (false, 0) }
        onChange(false)
        do {
            guard let lease = try await client.lease(namespace: config.namespace, name: config.name), lease.spec?.holderIdentity == config.identity else { return }
            let now = Self.microTime(clock.wallNow)
            let patch: JSONValue = [
                "metadata": ["resourceVersion": .string(lease.metadata.resourceVersion ?? "")],
                "spec": ["holderIdentity": .null, "leaseDurationSeconds": 1, "renewTime": .string(now)],
            ]
            _ = try await client.patchLease(patch, namespace: config.namespace, name: config.name)
            logger.info("leader election: lease released", metadata: ["lease": "\(config.namespace)/\(config.name)"])
        } catch {
            logger.warning("leader election: could not release the lease", metadata: ["error": "\(error)"])
        }
    }
}

/// The Lease requests leader election makes; `KubeClient` does them against the API
/// server, unit tests against an in-memory fake.
public protocol LeaseClient: Sendable {
    /// The Lease, or nil if it does not exist.
    func lease(namespace: String, name: String) async throws -> Lease?
    /// Creates it; false if another candidate created it first.
    func createLease(_ lease: Lease) async throws -> Bool
    /// A merge patch guarded by the resourceVersion it carries; false on a conflict.
    func patchLease(_ patch: JSONValue, namespace: String, name: String) async throws -> Bool
}

extension KubeClient: LeaseClient {
    // Leader election bounds each attempt by its own deadline: single attempts, no retries.
    public func lease(namespace: String, name: String) async throws -> Lease? {
        try await KubeClient.$retryOverride.withValue(RetryPolicy.none) {
            try await ifExists { try await get(Lease.self, namespace: namespace, name: name) }
        }
    }

    public func createLease(_ lease: Lease) async throws -> Bool {
        try await KubeClient.$retryOverride.withValue(RetryPolicy.none) { try await createLeaseOnce(lease) }
    }

    func createLeaseOnce(_ lease: Lease) async throws -> Bool {
        do {
            _ = try await create(lease)
            return true
        } catch let e as KubeAPIError where e.isConflict || e.code == 409 {
            return false
        }
    }

    public func patchLease(_ patch: JSONValue, namespace: String, name: String) async throws -> Bool {
        try await KubeClient.$retryOverride.withValue(RetryPolicy.none) { try await patchLeaseOnce(patch, namespace: namespace, name: name) }
    }

    func patchLeaseOnce(_ patch: JSONValue, namespace: String, name: String) async throws -> Bool {
        do {
            try await mergePatch(patch, resource: Lease.resource, namespace: namespace, name: name)
            return true
        } catch let e as KubeAPIError where e.isConflict {
            return false
        }
    }
}
