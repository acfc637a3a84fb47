import Controller
import TestSupport
import Testing

@Suite struct WorkQueueTests {
    @Test func aKeyAddedTwiceIsHandedOutOnce() async {
        let q = WorkQueue()
        q.add("a")
        q.add("a")
        q.add("b")
        #expect(q.depth == 2)
        #expect(await q.get() == "a")
        #expect(await q.get() == "b")
        #expect(q.depth == 0)
    }

    @Test func aKeyAddedWhileProcessingIsQueuedAgainWhenDone() async {
        let q = WorkQueue()
        q.add("a")
        let k = await q.get()
        #expect(k == "a")
        q.add("a")
        // Never two workers on one key: it waits until done.
        #expect(q.depth == 0)
        q.done("a")
        #expect(q.depth == 1)
        #expect(await q.get() == "a")
    }

    @Test func addAfterDeliversOnlyAfterTheDelay() async throws {
        let clock = ManualClock()
        let q = WorkQueue(clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await q.runTimer() }
            q.addAfter("later", delay: 0.2)
            await clock.waitForSleepers()
            clock.advance(by: 0.19)
            await clock.waitForSleepers()
            #expect(q.depth == 0)
            clock.advance(by: 0.01)
            let k = await q.get()
            #expect(k == "later")
            #expect(clock.now >= 0.2)
            q.shutdown()
            try await group.waitForAll()
        }
    }

    @Test func anEarlierDeadlineReplacesALaterOne() async throws {
        let clock = ManualClock()
        let q = WorkQueue(clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await q.runTimer() }
            q.addAfter("k", delay: 30)
            q.addAfter("k", delay: 0.05)
            await clock.waitForSleepers()
            clock.advance(by: 0.05)
            #expect(await q.get() == "k")
            // Delivered at the earlier deadline: the later one was replaced.
            #expect(clock.now < 30)
            q.shutdown()
            try await group.waitForAll()
        }
    }

    @Test func theQueueDurationIsMeasuredOnTheClock() async {
        let clock = ManualClock()
        let waits = Shared<[Double]>([])
        let q = WorkQueue(clock: clock, onGet: { w in waits.withLock { $0.append(w) } })
        q.add("a")
        clock.advance(by: 2.5)
        #expect(await q.get() == "a")
        #expect(waits.withLock { $0 } == [2.5])
    }

    @Test func backoffJitterIsInjected() async throws {
        let clock = ManualClock()
        let q = WorkQueue(baseDelay: 1, maxDelay: 100, clock: clock, jitter: { 0 })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await q.runTimer() }
            q.addRateLimited("k")
            await clock.waitForSleepers()
            let due = Backoff.delay(failures: 0, base: 1, max: 100, random: 0)
            clock.advance(by: due - 0.001)
            await clock.waitForSleepers()
            #expect(q.depth == 0)
            clock.advance(by: 0.001)
            #expect(await q.get() == "k")
            q.shutdown()
            try await group.waitForAll()
        }
    }

    @Test func failuresBackOffPerKeyAndForgetResets() {
        let q = WorkQueue(baseDelay: 10, maxDelay: 100)
        q.addRateLimited("a")
        q.addRateLimited("a")
        #expect(q.failures("a") == 2)
        #expect(q.failures("b") == 0)
        q.forget("a")
        #expect(q.failures("a") == 0)
        #expect(q.depth == 0)
    }

    @Test func shutdownWakesWaitingWorkers() async {
        let q = WorkQueue()
        await withTaskGroup(of: String?.self) { group in
            group.addTask { await q.get() }
            group.addTask { await q.get() }
            try? await Task.sleep(nanoseconds: 50_000_000)
            q.shutdown()
            for await r in group { #expect(r == nil) }
        }
    }

    @Test(arguments: [(0, 0.005), (1, 0.01), (10, 5.12), (40, 300)])
    func backoffDoublesUpToTheCap(_ failures: Int, _ expected: Double) {
        let d = Backoff.delay(failures: failures, base: 0.005, max: 300, random: 0)
        #expect(abs(d - expected / 2) < 1e-9)
    }
}
