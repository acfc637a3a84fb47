import Controller
import Foundation
import KubeModel
import Logging
import Synchronization
import TestSupport
import Testing

/// An in-memory Lease with the API server's resourceVersion guard; `failing` makes every
/// request throw, as a partitioned API server would.
final class FakeLeases: LeaseClient {
    struct Unreachable: Error {}
    let stored = Mutex<Lease?>(nil)
    let failing = Atomic<Bool>(false)

    func lease(namespace: String, name: String) async throws -> Lease? {
        if failing.load(ordering: .relaxed) { throw Unreachable() }
        return stored.withLock { $0 }
    }

    func createLease(_ lease: Lease) async throws -> Bool {
        if failing.load(ordering: .relaxed) { throw Unreachable() }
        return stored.withLock { s in
            guard s == nil else { return false }
            var l = lease
            l.metadata.resourceVersion = "1"
            s = l
            return true
        }
    }

    func patchLease(_ patch: JSONValue, namespace: String, name: String) async throws -> Bool {
        if failing.load(ordering: .relaxed) { throw Unreachable() }
        let rv = patch["metadata"]?["resourceVersion"]?.stringValue
        var spec = patch["spec"] ?? [:]
        if case .object(var o) = spec {
            // A merge patch's null removes the field.
            for (k, v) in o where v == .null { o[k] = nil }
            spec = .object(o)
        }
        let decoded = try JSONCoding.decode(LeaseSpec.self, from: JSONCoding.encode(spec))
        return stored.withLock { s in
            guard var l = s, l.metadata.resourceVersion == rv else { return false }
            l.spec = decoded
            l.metadata.resourceVersion = String((Int(rv ?? "0") ?? 0) + 1)
            s = l
            return true
        }
    }

    var holder: String? { stored.withLock { $0?.spec?.holderIdentity } }
}

/// Leader election on a manual clock: every deadline is crossed by advancing time, never
/// by sleeping.
@Suite struct LeaderElectorTests {
    let logger = Logger(label: "test")

    func elector(_ id: String, _ leases: FakeLeases, _ clock: ManualClock) -> LeaderElector {
        LeaderElector(client: leases, config: LeaderElector.Config(namespace: "vigil", name: "vigil-leader", identity: id), clock: clock, logger: logger)
    }

    /// Advances the clock by the retry period `rounds` times, letting both loops run.
    func rounds(_ n: Int, _ clock: ManualClock, sleepers: Int) async {
        for _ in 0..<n {
            await clock.waitForSleepers(sleepers)
            clock.advance(by: 2)
        }
        await clock.waitForSleepers(sleepers)
    }

    @Test func oneCandidateLeadsAndTheOtherTakesOverOnlyAfterTheLeaseDuration() async throws {
        let clock = ManualClock()
        let leases = FakeLeases()
        let a = elector("a", leases, clock)
        let b = elector("b", leases, clock)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await a.run() }
            await clock.waitForSleepers(1)
            #expect(a.isLeader && leases.holder == "a")
            group.addTask { try await b.run() }
            await rounds(3, clock, sleepers: 2)
            #expect(a.isLeader && !b.isLeader)
            // a stops renewing (its process froze): b waits a full lease duration (15 s)
            // of no change, by its own clock, then takes over.
            group.cancelAll()
            try? await group.waitForAll()
        }
        let clockB = clock
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await b.run() }
            var waited = 0.0
            await clockB.waitForSleepers(1)
            while !b.isLeader && waited < 60 {
                clockB.advance(by: 2)
                waited += 2
                await clockB.waitForSleepers(1)
            }
            #expect(b.isLeader && leases.holder == "b")
            // b last saw a change at most one retry period before a stopped.
            #expect(waited >= 15 - 2 && waited <= 15 + 2 + 2, "took over after \(waited) s")
            group.cancelAll()
            try? await group.waitForAll()
        }
    }

    @Test func aLeaderThatCannotRenewWithinTheDeadlineStopsLeading() async throws {
        let clock = ManualClock()
        let leases = FakeLeases()
        let a = elector("a", leases, clock)
        let lost = Shared<(any Error)?>(nil)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do { try await a.run() } catch { lost.withLock { $0 = error } }
            }
            await clock.waitForSleepers(1)
            #expect(a.isLeader)
            leases.failing.store(true, ordering: .relaxed)
            // Failed renewals every 2 s: still leader up to the 10 s renew deadline.
            for _ in 0..<5 {
                clock.advance(by: 2)
                await clock.waitForSleepers(1)
            }
            #expect(a.isLeader)
            clock.advance(by: 2)
            try await group.waitForAll()
        }
        #expect(!a.isLeader)
        #expect(lost.withLock { $0 } is LeaderElector.LeadershipLost)
    }

    @Test func releaseHandsTheLeaseOverAtOnce() async throws {
        let clock = ManualClock()
        let leases = FakeLeases()
        let a = elector("a", leases, clock)
        let b = elector("b", leases, clock)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await a.run() }
            await clock.waitForSleepers(1)
            group.cancelAll()
            try? await group.waitForAll()
        }
        await a.release()
        #expect(leases.holder == nil && !a.isLeader)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await b.run() }
            await clock.waitForSleepers(1)
            #expect(b.isLeader, "an empty holder is taken at once, without waiting a lease duration")
            group.cancelAll()
            try? await group.waitForAll()
        }
    }
}
