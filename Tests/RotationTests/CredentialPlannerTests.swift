import Foundation
import Rotation
import Testing

@Suite struct CredentialPlannerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = CredentialPolicy(interval: 30 * 86400, overlap: 86400)
    let day = 86400.0

    func cred(_ tag: String) -> Credential { Credential(password: "pw-\(tag)", hash: "hash-\(tag)") }

    func state(_ phase: CredentialPhase = .stable, generation: Int = 1, clients: [String] = ["a", "b"]) -> CredentialState {
        var creds: [Int: [String: Credential]] = [:]
        let gens: [Int]
        switch phase {
        case .stable: gens = [generation]
        case .rollingOut: gens = [generation, generation + 1]
        case .overlap: gens = [generation - 1, generation]
        }
        for g in gens { creds[g] = Dictionary(uniqueKeysWithValues: clients.map { ($0, cred("\($0)\(g)")) }) }
        return CredentialState(generation: generation, phase: phase, since: t0, rotatedAt: t0, credentials: creds, published: Set(clients))
    }

    func observe(_ clients: [String] = ["a", "b"], at: Double = 0, rolledOut: Bool = true, request: String? = nil, exposed: [String] = [], holding: Bool = true)
        -> CredentialObservation
    {
        CredentialObservation(clients: clients, now: t0.addingTimeInterval(at), rolledOut: rolledOut, request: request, exposed: exposed, clientsHoldGeneration: holding)
    }

    @Test func aStableStackWaitsForTheInterval() {
        #expect(CredentialPlanner.plan(state(), observe(at: day), policy: policy) == .wait(until: t0.addingTimeInterval(30 * day)))
    }

    @Test func theIntervalARequestOrAnExposedSecretStartARotation() {
        #expect(CredentialPlanner.plan(state(), observe(at: 30 * day), policy: policy) == .startRotation(reason: "interval elapsed"))
        #expect(CredentialPlanner.plan(state(), observe(request: "now"), policy: policy) == .startRotation(reason: "requested"))
        #expect(CredentialPlanner.plan(state(), observe(exposed: ["b"]), policy: policy) == .startRotation(reason: "client Secret deleted: b"))
        // A request already handled does not rotate again.
        var handled = state()
        handled.handledRequest = "now"
        #expect(CredentialPlanner.plan(handled, observe(request: "now"), policy: policy) == .wait(until: t0.addingTimeInterval(30 * day)))
    }

    @Test func startingARotationAddsTheNextGenerationBesideTheCurrentOne() throws {
        let s = CredentialPlanner.apply(.startRotation(reason: "requested"), to: state(), now: t0, request: "r1") { cred("new-\($0)") }
        #expect(s.phase == .rollingOut && s.generation == 1 && s.handledRequest == "r1")
        #expect(s.entries.map(\.user) == ["a-g1", "b-g1", "a-g2", "b-g2"])
        // Clients still hold generation 1.
        #expect(s.current("a") == cred("a1"))
    }

    @Test func publishingWaitsForTheRollout() {
        #expect(CredentialPlanner.plan(state(.rollingOut), observe(rolledOut: false), policy: policy) == .wait(until: nil))
        #expect(CredentialPlanner.plan(state(.rollingOut), observe(rolledOut: true), policy: policy) == .publish)
        let s = CredentialPlanner.apply(.publish, to: state(.rollingOut), now: t0.addingTimeInterval(60), request: nil) { _ in cred("x") }
        #expect(s.phase == .overlap && s.generation == 2 && s.published.isEmpty && s.rotatedAt == t0.addingTimeInterval(60))
        // The file does not change when publishing: both generations stay.
        #expect(s.file == state(.rollingOut).file)
    }

    @Test func thePreviousGenerationLeavesAfterTheOverlapOnceEveryClientHoldsTheNewOne() {
        let s = state(.overlap, generation: 2)
        #expect(CredentialPlanner.plan(s, observe(at: day / 2), policy: policy) == .wait(until: t0.addingTimeInterval(day)))
        #expect(CredentialPlanner.plan(s, observe(at: day, holding: false), policy: policy) == .wait(until: nil))
        #expect(CredentialPlanner.plan(s, observe(at: day), policy: policy) == .dropPrevious)
        let after = CredentialPlanner.apply(.dropPrevious, to: s, now: t0, request: nil) { _ in cred("x") }
        #expect(after.phase == .stable && after.entries.map(\.user) == ["a-g2", "b-g2"])
    }

    @Test func clientsAddedOrRemovedMidRotationGetOrLoseEveryGeneration() {
        let s = state(.rollingOut)
        #expect(CredentialPlanner.plan(s, observe(["a", "b", "c"]), policy: policy) == .make(["c"]))
        let added = CredentialPlanner.apply(.make(["c"]), to: s, now: t0, request: nil) { cred("c-\($0)") }
        #expect(added.entries.map(\.user) == ["a-g1", "b-g1", "c-g1", "a-g2", "b-g2", "c-g2"])
        #expect(CredentialPlanner.plan(s, observe(["a"]), policy: policy) == .forget(["b"]))
        let removed = CredentialPlanner.apply(.forget(["b"]), to: s, now: t0, request: nil) { _ in cred("x") }
        #expect(removed.entries.map(\.user) == ["a-g1", "a-g2"] && !removed.published.contains("b"))
    }

    @Test func aCredentialDescriptionHidesTheSecret() {
        #expect(!"\(cred("zz"))".contains("pw-zz") && !"\(state())".contains("pw-a1"))
    }
}
