import Controller
import TestSupport
import Testing

@Suite struct WorkQueueTimerTests {
    /// The timer must sleep while nothing is due: it passes once per deadline, not in a loop.
    @Test func theTimerDoesNotSpinWhileWaiting() async throws {
        let clock = ManualClock()
        let q = WorkQueue(clock: clock)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await q.runTimer() }
            q.addAfter("far", delay: 60)
            // Settle: the add's signal may give the loop one more pass before it sleeps.
            for _ in 0..<100 { await Task.yield() }
            await clock.waitForSleepers()
            let before = q.timerPasses
            for _ in 0..<100 { await Task.yield() }
            clock.advance(by: 30)
            for _ in 0..<100 { await Task.yield() }
            #expect(q.timerPasses - before == 0, "the timer loop ran \(q.timerPasses - before) times before anything was due")
            #expect(q.depth == 0)
            clock.advance(by: 30)
            #expect(await q.get() == "far")
            q.shutdown()
            try await group.waitForAll()
        }
    }
}
