import Synchronization

/// A de-duplicating work queue of keys, as controller-runtime's: a key is never handed to
/// two workers at once (an add while it is processed marks it dirty, and it is queued
/// again when done), failures back off per key exponentially, and `addAfter` schedules a
/// deadline (certificate renewal, credential rotation) without polling the API.
public final class WorkQueue: Sendable {
    struct State {
        var ready: [String] = []
        var readyHead = 0
        var queued: Set<String> = []
        var processing: Set<String> = []
        var dirty: Set<String> = []
        var delayed: [String: Double] = [:]
        var failures: [String: Int] = [:]
        var addedAt: [String: Double] = [:]
        var waiters: [(id: Int, continuation: CheckedContinuation<String?, Never>)] = []
        var nextWaiter = 0
        var timerWaiter: CheckedContinuation<Void, Never>? = nil
        var timerSignalled = false
        var shuttingDown = false
        var adds = 0
        var retries = 0
        var timerPasses = 0

        mutating func popReady() -> String? {
            guard readyHead < ready.count else { return nil }
            let k = ready[readyHead]
            readyHead += 1
            if readyHead > 1024, readyHead * 2 > ready.count {
                ready.removeFirst(readyHead)
                readyHead = 0
            }
            return k
        }

        var depth: Int { ready.count - readyHead }
    }

    let state = Mutex(State())
    let baseDelay: Double
    let maxDelay: Double
    let clock: any ControllerClock
    /// Called with the wait of each key handed out (queue duration metric).
    let onGet: (@Sendable (Double) -> Void)?

    /// Backoff jitter in [0, 1): random, or fixed in tests.
    let jitter: @Sendable () -> Double

    public init(
        baseDelay: Double = 0.005, maxDelay: Double = 300, clock: any ControllerClock = SystemClock(),
        jitter: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, onGet: (@Sendable (Double) -> Void)? = nil
    ) {
        self.clock = clock
        self.jitter = jitter
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.onGet = onGet
    }

    public var depth: Int { state.withLock { $0.depth } }
    public var totalAdds: Int { state.withLock { $0.adds } }
    public var totalRetries: Int { state.withLock { $0.retries } }
    /// How often the timer loop woke; it must not grow while nothing is due.
    public var timerPasses: Int { state.withLock { $0.timerPasses } }

    /// Queues `key` now (or marks it dirty if a worker holds it).
    public func add(_ key: String) {
        let waiter: (CheckedContinuation<String?, Never>, String)? = state.withLock { s in
            guard !s.shuttingDown else { return nil }
            s.adds += 1
            if s.processing.contains(key) {
                s.dirty.insert(key)
                return nil
            }
            guard !s.queued.contains(key) else { return nil }
            if !s.waiters.isEmpty {
                s.processing.insert(key)
                return (s.waiters.removeFirst().continuation, key)
            }
            s.queued.insert(key)
            s.addedAt[key] = clock.now
            s.ready.append(key)
            return nil
        }
        if let (c, k) = waiter {
            onGet?(0)
            c.resume(returning: k)
        }
    }

    /// Queues `key` after `delay` seconds; an earlier deadline for the same key wins.
    public func addAfter(_ key: String, delay: Double) {
        if delay <= 0 { return add(key) }
        let due = clock.now + delay
        let timer: CheckedContinuation<Void, Never>? = state.withLock { s in
            guard !s.shuttingDown else { return nil }
            if let existing = s.delayed[key], existing <= due { return nil }
            s.delayed[key] = due
            return s.signalTimer()
        }
        timer?.resume()
    }

    /// Queues `key` after its per-key exponential backoff (5 ms doubling up to 5 min, jittered).
    public func addRateLimited(_ key: String) {
        let failures = state.withLock { s -> Int in
            let f = s.failures[key, default: 0]
            s.failures[key] = f + 1
            s.retries += 1
            return f
        }
        addAfter(key, delay: Backoff.delay(failures: failures, base: baseDelay, max: maxDelay, random: jitter()))
    }

    /// Clears `key`'s failure count after a success.
    public func forget(_ key: String) {
        _ = state.withLock { $0.failures.removeValue(forKey: key) }
    }

    public func failures(_ key: String) -> Int { state.withLock { $0.failures[key, default: 0] } }

    /// The next key, waiting until there is one; nil once the queue shuts down, or when the
    /// waiting task is cancelled (the queue itself goes on: a standby's workers stop, the
    /// queue stays for the next term).
    public func get() async -> String? {
        let id = state.withLock { s -> Int in
            s.nextWaiter += 1
            return s.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<String?, Never>) in
                let result: String?? = state.withLock { s in
                    if let k = s.popReady() {
                        s.queued.remove(k)
                        s.processing.insert(k)
                        if let t = s.addedAt.removeValue(forKey: k) { onGet?(clock.now - t) }
                        return .some(k)
                    }
                    if s.shuttingDown || Task.isCancelled { return .some(nil) }
                    s.waiters.append((id, c))
                    return nil
                }
                if let r = result { c.resume(returning: r) }
            }
        } onCancel: {
            let c = state.withLock { s -> CheckedContinuation<String?, Never>? in
                guard let i = s.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return s.waiters.remove(at: i).continuation
            }
            c?.resume(returning: nil)
        }
    }

    /// Marks `key` finished; if it was added meanwhile, it is queued again.
    public func done(_ key: String) {
        let again = state.withLock { s -> Bool in
            s.processing.remove(key)
            return s.dirty.remove(key) != nil
        }
        if again {
            state.withLock { $0.adds -= 1 }
            add(key)
        }
    }

    /// Wakes every waiting worker with nil; later adds are ignored.
    public func shutdown() {
        let (waiters, timer) = state.withLock { s -> ([CheckedContinuation<String?, Never>], CheckedContinuation<Void, Never>?) in
            s.shuttingDown = true
            let w = s.waiters.map(\.continuation)
            s.waiters = []
            return (w, s.signalTimer())
        }
        for w in waiters { w.resume(returning: nil) }
        timer?.resume()
    }

    public var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Moves due delayed keys into the queue. Runs until shutdown or cancellation.
    public func runTimer() async {
        while !Task.isCancelled {
            let (due, next, stop) = state.withLock { s -> ([String], Double?, Bool) in
                s.timerPasses += 1
                let now = clock.now
                let due = s.delayed.filter { $0.value <= now }.map(\.key)
                for k in due { s.delayed[k] = nil }
                return (due, s.delayed.values.min(), s.shuttingDown)
            }
            if stop { return }
            for k in due { add(k) }
            await withTaskGroup(of: Void.self) { group in
                if let next {
                    let clock = self.clock
                    group.addTask { try? await clock.sleep(until: next) }
                }
                group.addTask { await self.waitForTimerSignal() }
                await group.next()
                // The other child ends through cancellation (see waitForTimerSignal).
                group.cancelAll()
            }
        }
    }

    func waitForTimerSignal() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.timerSignalled || s.shuttingDown {
                        s.timerSignalled = false
                        return true
                    }
                    // Cancelled before it could wait: onCancel found nothing to resume.
                    if Task.isCancelled { return true }
                    s.timerWaiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            // Only wake a waiter; never leave a signal behind, or the next wait would
            // return at once and the timer loop would spin.
            let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
                let c = s.timerWaiter
                s.timerWaiter = nil
                return c
            }
            c?.resume()
        }
    }
}

extension WorkQueue.State {
    /// Takes the timer's waiter to resume, or remembers the signal for its next wait.
    mutating func signalTimer() -> CheckedContinuation<Void, Never>? {
        if let c = timerWaiter {
            timerWaiter = nil
            return c
        }
        timerSignalled = true
        return nil
    }
}
