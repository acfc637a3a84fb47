import Controller
import Foundation
import KubeModel
import Logging
import Render
import Synchronization
import Testing

/// Writes are fenced on leadership; reads are not.
@Suite struct FencedWriterTests {
    @Test func noWriteIsSentOnceTheFenceIsDown() async throws {
        let fake = FakeCluster()
        let leading = Atomic<Bool>(true)
        let writer = FencedWriter(fake, fence: { leading.load(ordering: .relaxed) })
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: StackSpec(environment: .development))
        s.metadata.uid = "uid-1"
        let object = try #require(try DesiredState.render(StackContext(s)).objects.first)
        _ = try await writer.apply(object)
        #expect(fake.counts.withLock { $0.applies } == 1)
        leading.store(false, ordering: .relaxed)
        await #expect(throws: LeaderElector.NotLeader.self) { _ = try await writer.apply(object) }
        await #expect(throws: LeaderElector.NotLeader.self) { _ = try await writer.applyStatus(StackStatus(), of: s) }
        await #expect(throws: LeaderElector.NotLeader.self) { try await writer.delete(object.resource, namespace: "team", name: object.name) }
        await #expect(throws: LeaderElector.NotLeader.self) { _ = try await writer.applyFinalizers([], of: s) }
        #expect(fake.counts.withLock { $0 } == FakeCluster.Counts(applies: 1, statusWrites: 0, deletes: 0, events: 0))
        // Reads go on: a standby keeps its view.
        #expect(try await writer.readObject(object.resource, namespace: "team", name: object.name) != nil)
    }

    /// A reconcile that loses the lease midway stops before its next write.
    @Test func aReconcileStopsAtTheFirstWriteAfterTheLeaseIsLost() async throws {
        let fake = FakeCluster()
        let leading = Atomic<Bool>(true)
        let writer = FencedWriter(fake, fence: { leading.load(ordering: .relaxed) })
        // The lease is lost right after the third write lands.
        let writes = Atomic<Int>(0)
        fake.afterWriteHook.withLock { $0 = { if writes.add(1, ordering: .relaxed).newValue == 3 { leading.store(false, ordering: .relaxed) } } }
        let stacks = Store<ObservabilityStack>()
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        let logger = Logger(label: "test")
        let r = StackReconciler(
            stacks: stacks, owned: owned, writer: writer, events: EventRecorder(writer: writer, logger: logger),
            now: { Date(timeIntervalSince1970: 1_800_000_000) }, logger: logger
        )
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: StackSpec(environment: .development))
        s.metadata.uid = "uid-1"
        stacks.upsert(s)
        await #expect(throws: LeaderElector.NotLeader.self) { _ = try await r.reconcile("team/obs") }
        #expect(fake.counts.withLock { $0.applies } == 3)
    }
}
