import Controller
import Foundation
import KubeModel
import Logging
import Synchronization
import TestSupport
import Testing

/// An in-memory Lease with the API server's resourceVersion guard.
final class FakeLeases: Sendable {
    let stored = Mutex<Lease?>(nil)
    /// Renewals that landed, by holder (a write by a replica).
    let writes = Mutex<[String]>([])

    var holder: String? { stored.withLock { $0?.spec?.holderIdentity } }
}

/// One replica's way to the fake Lease, which a test can cut: `failing` answers every
/// request with an error at once, `hanging` never answers (a blackholed connection) until
/// the request is cancelled.
final class LeaseLink: LeaseClient {
    struct Unreachable: Error {}
    let leases: FakeLeases
    let failing = Atomic<Bool>(false)
    let hanging = Atomic<Bool>(false)

    init(_ leases: FakeLeases) { self.leases = leases }

    func cut() async throws {
        if failing.load(ordering: .relaxed) { throw Unreachable() }
        if hanging.load(ordering: .relaxed) {
            // Until cancelled: only the elector's deadline ends it.
            while true { try await Task.sleep(nanoseconds: 3_600_000_000_000) }
        }
    }

    func lease(namespace: String, name: String) async throws -> Lease? {
        try await cut()
        return leases.stored.withLock { $0 }
    }

    func createLease(_ lease: Lease) async throws -> Bool {
        try await cut()
        return leases.stored.withLock { s in
            guard s == nil else { return false }
            var l = lease
            l.metadata.resourceVersion = "1"
            s = l
            return true
        }
    }

    func patchLease(_ patch: JSONValue, namespace: String, name: String) async throws -> Bool {
        try await cut()
        let rv = patch["metadata"]?["resourceVersion"]?.stringValue
        var spec = patch["spec"] ?? [:]
        if case .object(var o) = spec {
            // A merge patch's null removes the field.
            for (k, v) in o where v == .null { o[k] = nil }
            spec = .object(o)
        }
        let decoded = try JSONCoding.decode(LeaseSpec.self, from: JSONCoding.encode(spec))
        let ok = leases.stored.withLock { s -> Bool in
            guard var l = s, l.metadata.resourceVersion == rv else { return false }
            l.spec = decoded
            l.metadata.resourceVersion = String((Int(rv ?? "0") ?? 0) + 1)
            s = l
            return true
        }
        if ok, let h = decoded.holderIdentity { leases.writes.withLock { $0.append(h) } }
        return ok
    }
}

/// Leader election on a manual clock: every deadline is crossed by advancing time, never
/// by sleeping.
@Suite struct LeaderElectorTests {
    let logger = Logger(label: "test")

    func elector(_ id: String, _ link: LeaseLink, _ clock: ManualClock) -> LeaderElector {
        LeaderElector(client: link, config: LeaderElector.Config(namespace: "vigil", name: "vigil-leader", identity: id), clock: clock, logger: logger)
    }

    @Test func oneCandidateLeadsAndTheOtherTakesOverOnlyAfterTheLeaseDuration() async throws {
        let clock = ManualClock()
        let leases = FakeLeases()
        let a = elector("a", LeaseLink(leases), clock)
        let b = elector("b", LeaseLink(leases), clock)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await a.run() }
            await clock.settle(1)
            #expect(a.isLeader && leases.holder == "a")
            group.addTask { try await b.run() }
            for _ in 0..<3 {
                await clock.settle(2)
                clock.advance(by: 2)
            }
            await clock.settle(2)
            #expect(a.isLeader && !b.isLeader)
            // a stops renewing (its process froze): b waits a full lease duration (15 s)
            // of no change, by its own clock, then takes over.
            group.cancelAll()
        }
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await b.run() }
            var waited = 0.0
            await clock.settle(1)
            while !b.isLeader && waited < 60 {
                clock.advance(by: 2)
                waited += 2
                await clock.settle(1)
            }
            #expect(b.isLeader && leases.holder == "b")
            // b last saw a change at most one retry period before a stopped.
            #expect(waited >= 15 - 2 && waited <= 15 + 2 + 2, "took over after \(waited) s")
            group.cancelAll()
        }
    }

    /// The partition of issue 23: the leader's requests hang (a blackholed connection). It
    /// stops leading at its renew deadline although its request is still in flight; the
    /// standby takes over only after the lease duration; never are both leaders; healed,
    /// the old leader stands by.
    @Test func aPartitionedLeaderStopsAtItsDeadlineWhileItsRequestHangs() async throws {
        let clock = ManualClock()
        let leases = FakeLeases()
        let linkA = LeaseLink(leases)
        let a = elector("a", linkA, clock)
        let b = elector("b", LeaseLink(leases), clock)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await a.run() }
            await clock.settle(1)
            group.addTask { try await b.run() }
            await clock.settle(2)
            clock.advance(by: 2)
            await clock.settle(2)
            #expect(a.isLeader)
            let lastRenewal = clock.now
            linkA.hanging.store(true, ordering: .relaxed)
            var aStopped: Double? = nil
            var bStarted: Double? = nil
            for _ in 0..<40 {
                clock.advance(by: 0.5)
                await clock.settle(2)
                #expect(!(a.isLeader && b.isLeader), "two leaders at \(clock.now)")
                if aStopped == nil, !a.isLeader { aStopped = clock.now }
                if bStarted == nil, b.isLeader { bStarted = clock.now }
            }
            #expect(aStopped != nil && bStarted != nil)
            let stopped = aStopped
            let started = bStarted
            // a stops by its renew deadline (10 s after the attempt that last renewed).
            #expect((stopped ?? 99) - lastRenewal <= 10)
            // b needs a lease duration (15 s) of no change.
            #expect((started ?? 0) - lastRenewal >= 15)
            // Healed: a sees b's lease and stands by.
            linkA.hanging.store(false, ordering: .relaxed)
            for _ in 0..<5 {
                clock.advance(by: 2)
                await clock.settle(2)
                #expect(!a.isLeader && b.isLeader)
            }
            #expect(leases.holder == "b")
            group.cancelAll()
        }
    }

    @Test func aLeaderWhoseRequestsFailStopsAtTheDeadlineAndCampaignsAgain() async throws {
        let clock = ManualClock()
        let leases = FakeLeases()
        let link = LeaseLink(leases)
        let changes = Mutex<[Bool]>([])
        let watched = LeaderElector(
            client: link, config: LeaderElector.Config(namespace: "vigil", name: "vigil-leader", identity: "a"), clock: clock, logger: logger,
            onChange: { v in changes.withLock { $0.append(v) } }
        )
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await watched.run() }
            await clock.settle(1)
            #expect(watched.isLeader)
            link.failing.store(true, ordering: .relaxed)
            // Failed renewals every 2 s: still leader until the 10 s renew deadline.
            for _ in 0..<4 {
                clock.advance(by: 2)
                await clock.settle(1)
                #expect(watched.isLeader)
            }
            clock.advance(by: 2)
            await clock.settle(1)
            #expect(!watched.isLeader)
            #expect(changes.withLock { $0 } == [true, false])
            // Its own lease, unchanged, is taken back once it answers again.
            link.failing.store(false, ordering: .relaxed)
            clock.advance(by: 2)
            await clock.settle(1)
            #expect(watched.isLeader)
            #expect(changes.withLock { $0 } == [true, false, true])
            group.cancelAll()
        }
    }

    @Test func releaseHandsTheLeaseOverAtOnce() async throws {
        let clock = ManualClock()
        let leases = FakeLeases()
        let a = elector("a", LeaseLink(leases), clock)
        let b = elector("b", LeaseLink(leases), clock)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await a.run() }
            await clock.settle(1)
            group.cancelAll()
        }
        await a.release()
        #expect(leases.holder == nil && !a.isLeader)
        await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await b.run() }
            await clock.settle(1)
            #expect(b.isLeader, "an empty holder is taken at once, without waiting a lease duration")
            group.cancelAll()
        }
    }
}
