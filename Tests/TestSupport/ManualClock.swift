import Controller
import Foundation
import Synchronization

/// A clock that moves only when a test says so: `advance(by:)` wakes every sleeper whose
/// deadline has come. The work queue and the leader elector run on it without real sleeps.
public final class ManualClock: ControllerClock, Sendable {
    struct Sleeper {
        var deadline: Double
        var continuation: CheckedContinuation<Void, any Error>
    }

    struct State {
        var now: Double = 0
        var wallOrigin: Date
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
        /// Moves on every sleep begun or ended.
        var version = 0
    }

    let state: Mutex<State>

    public init(wall: Date = Date(timeIntervalSince1970: 1_800_000_000)) { state = Mutex(State(wallOrigin: wall)) }

    public var now: Double { state.withLock { $0.now } }
    public var wallNow: Date { state.withLock { $0.wallOrigin.addingTimeInterval($0.now) } }
    /// How many tasks sleep on this clock now.
    public var sleepers: Int { state.withLock { $0.sleepers.count } }

    public func sleep(until deadline: Double) async throws {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.now >= deadline { return true }
                    if Task.isCancelled { return true }
                    s.sleepers[id] = Sleeper(deadline: deadline, continuation: c)
                    s.version += 1
                    return false
                }
                if resumeNow {
                    if Task.isCancelled { c.resume(throwing: CancellationError()) } else { c.resume() }
                }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<Void, any Error>? in
                s.version += 1
                return s.sleepers.removeValue(forKey: id)?.continuation
            }
            c?.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and wakes the sleepers whose deadline has come.
    public func advance(by seconds: Double) {
        let due = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.now += seconds
            let now = s.now
            let ids = s.sleepers.filter { $0.value.deadline <= now }.map(\.key)
            s.version += 1
            return ids.compactMap { s.sleepers.removeValue(forKey: $0)?.continuation }
        }
        for c in due { c.resume() }
    }

    /// Waits (yielding, not sleeping) until `count` tasks sleep on this clock.
    public func waitForSleepers(_ count: Int = 1) async {
        while sleepers < count { await Task.yield() }
    }

    /// Waits until exactly `count` tasks sleep on this clock and nothing has begun or ended
    /// a sleep for a while: every task that time woke has done its work.
    ///
    /// "A while" is counted in yields and in real time: work that runs on another thread (a
    /// request in flight, which is not a sleep) may need the scheduler to get to it, and on
    /// a loaded machine 200 yields can pass before it does. Three quiet rounds in a row,
    /// each with a few real milliseconds, make a task that was woken finish first.
    public func settle(_ count: Int) async {
        var quiet = 0
        while quiet < 3 {
            await waitForSleepers(count)
            let before = state.withLock { $0.version }
            for _ in 0..<200 { await Task.yield() }
            try? await Task.sleep(nanoseconds: 3_000_000)
            let (after, n) = state.withLock { ($0.version, $0.sleepers.count) }
            quiet = after == before && n == count ? quiet + 1 : 0
        }
    }
}

/// The first lines where two texts differ, numbered, for a readable golden-file failure.
public func goldenDiff(_ expected: String, _ actual: String) -> String {
    let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let b = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var out: [String] = []
    for i in 0..<max(a.count, b.count) {
        let x = i < a.count ? String(a[i]) : "<end>"
        let y = i < b.count ? String(b[i]) : "<end>"
        if x != y {
            out.append("line \(i + 1):\n  golden:   \(x)\n  rendered: \(y)")
            if out.count == 10 { break }
        }
    }
    return out.joined(separator: "\n")
}
