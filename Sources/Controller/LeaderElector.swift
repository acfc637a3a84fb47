import Foundation
import KubeClient
import KubeModel
import Logging
import Synchronization

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go does it: the leader
/// renews every `retryPeriod`; a candidate takes the lease over once it has seen no change
/// to it for `leaseDuration` (by its own clock, so clock skew between nodes does not
/// matter); a leader that cannot renew within `renewDeadline` gives up. Standbys keep
/// their caches warm; only the leader reconciles.
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

    /// Thrown by `run` when the lease is lost: the process must stop reconciling.
    public struct LeadershipLost: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    let client: KubeClient
    public let config: Config
    let logger: Logger
    let leading = Mutex(false)
    /// The last lease seen, and when (monotonic) it last changed.
    let observed = Mutex<(spec: LeaseSpec?, at: ContinuousClock.Instant)?>(nil)
    let onChange: @Sendable (Bool) -> Void

    public init(client: KubeClient, config: Config, logger: Logger, onChange: @escaping @Sendable (Bool) -> Void = { _ in }) {
        self.client = client
        self.config = config
        self.logger = logger
        self.onChange = onChange
    }

    public var isLeader: Bool { leading.withLock { $0 } }

    /// MicroTime as the API server writes it.
    static func microTime(_ d: Date) -> String {
        let whole = floor(d.timeIntervalSince1970)
        let micros = Int((d.timeIntervalSince1970 - whole) * 1_000_000)
        let base = Date(timeIntervalSince1970: whole).formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
        return base + "." + String(format: "%06d", micros) + "Z"
    }

    /// Campaigns, then renews, until cancelled; throws `LeadershipLost` if a held lease
    /// could not be renewed in time.
    public func run() async throws {
        let clock = ContinuousClock()
        var lastRenewal = clock.now
        while !Task.isCancelled {
            let held: Bool
            do {
                held = try await tryAcquireOrRenew()
            } catch is CancellationError {
                return
            } catch {
                if Task.isCancelled { return }
                logger.warning("leader election: lease request failed", metadata: ["lease": "\(config.namespace)/\(config.name)", "error": "\(error)"])
                held = false
            }
            let wasLeader = isLeader
            if held {
                lastRenewal = clock.now
                if !wasLeader {
                    leading.withLock { $0 = true }
                    logger.info("became leader", metadata: ["lease": "\(config.namespace)/\(config.name)", "identity": "\(config.identity)"])
                    onChange(true)
                }
            } else if wasLeader, clock.now - lastRenewal > .milliseconds(Int(config.renewDeadline * 1000)) {
                leading.withLock { $0 = false }
                onChange(false)
                logger.error("leader election lost", metadata: ["lease": "\(config.namespace)/\(config.name)", "identity": "\(config.identity)"])
                throw LeadershipLost(description: "could not renew lease \(config.namespace)/\(config.name) within \(config.renewDeadline)s")
            }
            do { try await Task.sleep(for: .milliseconds(Int(config.retryPeriod * 1000))) } catch { return }
        }
    }

    /// One round: create the lease, renew ours, or take over an expired one. Returns
    /// whether this process holds the lease now.
    func tryAcquireOrRenew() async throws -> Bool {
        let now = Date()
        let lease: Lease
        do {
            lease = try await client.get(Lease.self, namespace: config.namespace, name: config.name)
        } catch let e as KubeAPIError where e.isNotFound {
            let spec = LeaseSpec(
                holderIdentity: config.identity, leaseDurationSeconds: Int(config.leaseDuration), acquireTime: Self.microTime(now),
                renewTime: Self.microTime(now), leaseTransitions: 0
            )
            do {
                _ = try await client.create(Lease(metadata: ObjectMeta(name: config.name, namespace: config.namespace), spec: spec))
            } catch let e as KubeAPIError where e.isConflict || e.code == 409 {
                return false
            }
            observed.withLock { $0 = (spec, ContinuousClock.now) }
            return true
        }
        let spec = lease.spec ?? LeaseSpec(holderIdentity: nil, leaseDurationSeconds: nil, acquireTime: nil, renewTime: nil, leaseTransitions: nil)
        // Track when the record last changed, by this process's monotonic clock.
        let seenAt = observed.withLock { o -> ContinuousClock.Instant in
            if o?.spec != spec { o = (spec, ContinuousClock.now) }
            return o!.at
        }
        let holder = spec.holderIdentity ?? ""
        let mine = holder == config.identity
        let duration = Double(spec.leaseDurationSeconds ?? Int(config.leaseDuration))
        let expired = holder.isEmpty || ContinuousClock.now - seenAt > .milliseconds(Int(duration * 1000))
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
        do {
            try await client.mergePatch(patch, resource: Lease.resource, namespace: config.namespace, name: config.name)
        } catch let e as KubeAPIError where e.isConflict {
            return false
        }
        observed.withLock { $0 = (next, ContinuousClock.now) }
        return true
    }

    /// Gives the lease up on shutdown, so that a standby takes over at once.
    public func release() async {
        guard isLeader else { return }
        leading.withLock { $0 = false }
        onChange(false)
        do {
            let lease = try await client.get(Lease.self, namespace: config.namespace, name: config.name)
            guard lease.spec?.holderIdentity == config.identity else { return }
            let now = Self.microTime(Date())
            let patch: JSONValue = [
                "metadata": ["resourceVersion": .string(lease.metadata.resourceVersion ?? "")],
                "spec": ["holderIdentity": .null, "leaseDurationSeconds": 1, "renewTime": .string(now)],
            ]
            try await client.mergePatch(patch, resource: Lease.resource, namespace: config.namespace, name: config.name)
            logger.info("leader election: lease released", metadata: ["lease": "\(config.namespace)/\(config.name)"])
        } catch {
            logger.warning("leader election: could not release the lease", metadata: ["error": "\(error)"])
        }
    }
}
