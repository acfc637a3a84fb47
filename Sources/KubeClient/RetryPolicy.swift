/// Exponential backoff with full jitter, bounded attempts. `Retry-After` from the server
/// takes precedence over the computed delay.
public struct RetryPolicy: Sendable, Hashable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 5, baseDelay: Double = 0.1, maxDelay: Double = 10) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    public static let none = RetryPolicy(maxAttempts: 1)

    /// The delay before attempt `attempt + 1` (attempt counts from 1), given a uniform
    /// random number in [0, 1).
    public func delay(afterAttempt attempt: Int, retryAfter: Double?, random: Double) -> Double {
        // The server knows best how long it needs; a minute at most keeps a bad header from stalling us.
        if let retryAfter { return min(max(retryAfter, 0), 60) }
        let cap = min(maxDelay, baseDelay * Double(1 << min(attempt - 1, 30)))
        // Half fixed, half random: spreads retries without ever collapsing to zero.
        return cap / 2 + cap / 2 * random
    }
}
