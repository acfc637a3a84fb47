/// Exponential backoff with jitter, for loops that must never spin: watch reconnects and
/// per-item requeues.
public struct Backoff: Sendable, Hashable {
    public var base: Double
    public var max: Double
    public private(set) var failures = 0

    public init(base: Double, max: Double) {
        self.base = base
        self.max = max
    }

    /// The delay for the next attempt, given a uniform random number in [0, 1).
    public mutating func next(random: Double = Double.random(in: 0..<1)) -> Double {
        let d = Self.delay(failures: failures, base: base, max: max, random: random)
        failures += 1
        return d
    }

    public mutating func reset() { failures = 0 }

    /// `base * 2^failures`, capped at `max`, then jittered into [d/2, d).
    public static func delay(failures: Int, base: Double, max: Double, random: Double) -> Double {
        let d = Swift.min(max, base * Double(1 << Swift.min(failures, 40)))
        return d / 2 + d / 2 * random
    }
}
