import Synchronization

/// Thrown by `withDeadline` when the deadline passed before the work finished.
public struct DeadlineExceeded: Error, Sendable, CustomStringConvertible {
    public var seconds: Double
    public var description: String { "no answer within \(seconds)s" }
}

/// Runs `work`, and cancels it once `sleep` returns (the deadline): whichever ends first
/// decides. The work must end on cancellation (an HTTP request does), so the caller never
/// waits past the deadline for a request that is still in flight.
public func withDeadline<T: Sendable>(
    seconds: Double, sleep: @escaping @Sendable () async throws -> Void, _ work: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try await sleep()
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded(seconds: seconds) }
        return value
    }
}

/// Lets a log line through at most once per `interval` seconds for each key, and counts
/// what it held back in between, so that an outage is reported without flooding the log.
public final class LogThrottle: Sendable {
    let interval: Double
    let now: @Sendable () -> Double
    let state = Mutex<[String: (last: Double, suppressed: Int)]>([:])

    /// `now` is seconds on a monotonic clock (the system's by default).
    public init(interval: Double = 10, now: (@Sendable () -> Double)? = nil) {
        self.interval = interval
        let origin = ContinuousClock.now
        self.now = now ?? {
            let t = ContinuousClock.now - origin
            return Double(t.components.seconds) + Double(t.components.attoseconds) / 1e18
        }
    }

    /// Nil when `key` was let through less than `interval` ago (the line is counted and
    /// held back); otherwise how many lines of `key` were held back since the last one.
    public func allow(_ key: String) -> Int? {
        let t = now()
        return state.withLock { s in
            if let entry = s[key], t - entry.last < interval {
                s[key] = (entry.last, entry.suppressed + 1)
                return nil
            }
            let held = s[key]?.suppressed ?? 0
            s[key] = (t, 0)
            return held
        }
    }

    /// Forgets `key`: the next line of it goes through (after a recovery).
    public func reset(_ key: String) { _ = state.withLock { $0.removeValue(forKey: key) } }
}
