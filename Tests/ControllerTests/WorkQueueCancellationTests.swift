import Controller
import TestSupport
import Testing

@Suite struct WorkQueueCancellationTests {
    /// A standby's workers are cancelled; the queue is not: it keeps its keys for the next
    /// term.
    @Test func cancellingAWaitingWorkerLeavesTheQueueRunning() async {
        let q = WorkQueue()
        await withTaskGroup(of: String?.self) { group in
            group.addTask { await q.get() }
            for _ in 0..<50 { await Task.yield() }
            group.cancelAll()
            #expect(await group.next() == .some(nil))
        }
        #expect(!q.isShuttingDown)
        q.add("k")
        #expect(await q.get() == "k")
    }
}
