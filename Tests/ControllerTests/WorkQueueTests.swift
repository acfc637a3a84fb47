import Controller
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
        let q = WorkQueue()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await q.runTimer() }
            let start = ContinuousClock.now
            q.addAfter("later", delay: 0.2)
            #expect(q.depth == 0)
            let k = await q.get()
            #expect(k == "later")
            #expect(ContinuousClock.now - start >= .milliseconds(190))
            q.shutdown()
            try await group.waitForAll()
        }
    }

    @Test func anEarlierDeadlineReplacesALaterOne() async throws {
        let q = WorkQueue()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await q.runTimer() }
            let start = ContinuousClock.now
            q.addAfter("k", delay: 30)
            q.addAfter("k", delay: 0.05)
            #expect(await q.get() == "k")
            // Well before the 30 s deadline (the bound leaves room for a loaded machine:
            // other tests hash passwords on the same two cores).
            #expect(ContinuousClock.now - start < .seconds(20))
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

@Suite struct WorkQueueTimerTests {
    /// The timer must sleep while nothing is due: count its passes over a quiet second.
    @Test func theTimerDoesNotSpinWhileWaiting() async throws {
        let q = WorkQueue()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await q.runTimer() }
            q.addAfter("far", delay: 60)
            try await Task.sleep(nanoseconds: 300_000_000)
            let before = q.timerPasses
            try await Task.sleep(nanoseconds: 1_000_000_000)
            #expect(q.timerPasses - before <= 1, "the timer loop ran \(q.timerPasses - before) times in a quiet second")
            q.shutdown()
            try await group.waitForAll()
        }
    }
}
