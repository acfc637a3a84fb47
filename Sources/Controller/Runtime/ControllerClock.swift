import Foundation

/// The clock the runtime parts (work queue, leader election) read and sleep on, injected so
/// that their tests run on a manual clock without real sleeps. Times are seconds on a
/// monotonic clock; `wallNow` is the calendar time written into objects (Lease times).
public protocol ControllerClock: Sendable {
    /// Seconds since an arbitrary origin, never going back.
    var now: Double { get }
    /// The calendar time.
    var wallNow: Date { get }
    /// Returns at `deadline` (seconds on this clock); throws `CancellationError` if the
    /// task is cancelled first.
    func sleep(until deadline: Double) async throws
}

extension ControllerClock {
    public func sleep(for seconds: Double) async throws { try await sleep(until: now + seconds) }
}

/// The system's clocks: `ContinuousClock` (monotonic, counts suspended time) and `Date()`.
public struct SystemClock: ControllerClock {
    let origin = ContinuousClock.now

    public init() {}

    public var now: Double { (ContinuousClock.now - origin).seconds }
    public var wallNow: Date { Date() }

    public func sleep(until deadline: Double) async throws {
        try await Task.sleep(until: origin.advanced(by: .nanoseconds(Int64(deadline * 1e9))), clock: .continuous)
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
