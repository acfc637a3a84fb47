import TestSupport
import Foundation
import Rotation
import Testing
import X509

/// Two simulated years of a stack's certificates under a fixed clock: leaf renewals and CA
/// rollovers, with the invariant checked at every step and just before every deadline.
@Suite struct CertificateRotationSimulationTests {
    let day = 86400.0
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    struct Snapshot {
        var time: Date
        var bundle: [String]
    }

    /// The bundle clients held at `time` (they may lag the operator by up to the grace period).
    func bundle(at time: Date, history: [Snapshot]) -> [String]? {
        history.last { $0.time <= time }?.bundle
    }

    func check(_ state: TLSState, now: Date, policy: TLSPolicy, history: [Snapshot], dir: URL) async throws {
        let leaf = try #require(state.leaf)
        #expect(leaf.notBefore <= now && now < leaf.notAfter, "the served leaf is not valid at \(now)")
        #expect(await PKI.verify(leafPEM: leaf.certificatePEM, bundlePEM: state.bundlePEM, at: now) == nil, "leaf does not chain to the bundle at \(now)")
        let lagging = now.addingTimeInterval(-policy.bundleGrace)
        if lagging >= start, let old = bundle(at: lagging, history: history) {
            #expect(await PKI.verify(leafPEM: leaf.certificatePEM, bundlePEM: old, at: now) == nil, "a client holding the bundle of \(lagging) rejects the leaf at \(now)")
        }
        // The same chain, checked by openssl on the PEM files.
        try leaf.certificatePEM.write(to: dir.appendingPathComponent("leaf.pem"), atomically: true, encoding: .utf8)
        try state.bundleFile.write(to: dir.appendingPathComponent("ca.pem"), atomically: true, encoding: .utf8)
        let (status, text) = try await runTool(["openssl", "verify", "-attime", String(Int(now.timeIntervalSince1970)), "-CAfile", dir.appendingPathComponent("ca.pem").path, dir.appendingPathComponent("leaf.pem").path])
        #expect(status == 0, "openssl verify rejects the leaf at \(now): \(text)")
    }

    @Test(arguments: [90.0, 30.0])
    func twoYearsOfRotationsNeverServeAnInvalidChain(_ leafDays: Double) async throws {
        let policy = TLSPolicy(leafDuration: leafDays * day)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sim-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let issueCA = { (t: Date) in try PKI.issueCA(commonName: "sim CA", now: t, duration: policy.caDuration) }
        let issueLeaf = { (ca: IssuedCertificate, t: Date) in
            try PKI.issueLeaf(ca: ca, commonName: "obs", dnsNames: ["obs.team.svc"], ipAddresses: [], usage: .server, now: t, duration: policy.leafDuration)
        }
        var now = start
        var state: TLSState? = nil
        var history: [Snapshot] = []
        var counts: [String: Int] = [:]
        var phases: [String] = []
        let end = start.addingTimeInterval(2 * 365 * day)
        var steps = 0
        while now < end {
            steps += 1
            #expect(steps < 500, "the planner does not settle")
            if steps >= 500 { break }
            let step = CertificatePlanner.next(state, now: now, policy: policy)
            if case .wait(let until) = step {
                #expect(until > now, "a wait must move time forward")
                // Just before the deadline the state must still be sound.
                let before = min(until, end).addingTimeInterval(-1)
                if let state { try await check(state, now: before, policy: policy, history: history, dir: dir) }
                now = until
                continue
            }
            let key = "\(step)".components(separatedBy: "(").first!
            counts[key, default: 0] += 1
            state = try CertificatePlanner.apply(step, to: state, now: now, policy: policy, issueCA: issueCA, issueLeaf: issueLeaf)
            let s = try #require(state)
            if history.last?.bundle != s.bundlePEM { history.append(Snapshot(time: now, bundle: s.bundlePEM)) }
            phases.append("\(s.phase)".components(separatedBy: "(").first!)
            try await check(s, now: now, policy: policy, history: history, dir: dir)
            // A step done is not planned again at the same instant: resuming is safe.
            #expect(CertificatePlanner.next(s, now: now, policy: policy) != step)
        }
        #expect(counts["createCA"] == 1)
        #expect((counts["addNewCA"] ?? 0) >= 2, "two years must see CA rollovers: \(counts)")
        #expect(counts["addNewCA"] == counts["moveLeafToNewCA"])
        #expect((counts["dropOldCA"] ?? 0) >= (counts["addNewCA"] ?? 0) - 1)
        #expect((counts["issueLeaf"] ?? 0) >= Int(730 / leafDays), "leaves must renew: \(counts)")
        #expect(phases.contains("newCAInBundle") && phases.contains("leafOnNewCA"))
    }

    @Test func aBundleFileOfTwoCAsParses() throws {
        let a = try PKI.issueCA(commonName: "a", now: start, duration: day)
        let b = try PKI.issueCA(commonName: "b", now: start, duration: day)
        let file = TLSState(cas: [a, b], leaf: nil, phase: .stable).bundleFile
        #expect(file.components(separatedBy: "-----BEGIN CERTIFICATE-----").count == 3)
        #expect(!file.contains("----------"))
    }

    @Test func forcedRotationReissuesTheLeafAndKeepsTheCA() throws {
        let policy = TLSPolicy(leafDuration: 90 * day)
        let issueCA = { (t: Date) in try PKI.issueCA(commonName: "ca", now: t, duration: policy.caDuration) }
        let issueLeaf = { (ca: IssuedCertificate, t: Date) in
            try PKI.issueLeaf(ca: ca, commonName: "obs", dnsNames: ["obs"], ipAddresses: [], usage: .server, now: t, duration: policy.leafDuration)
        }
        let s0 = try #require(try CertificatePlanner.apply(.createCA, to: nil, now: start, policy: policy, issueCA: issueCA, issueLeaf: issueLeaf))
        let later = start.addingTimeInterval(day)
        let step = CertificatePlanner.next(s0, now: later, policy: policy, forceRenewal: true)
        #expect(step == .issueLeaf(reason: "ForcedRotation"))
        let s1 = try #require(try CertificatePlanner.apply(step, to: s0, now: later, policy: policy, issueCA: issueCA, issueLeaf: issueLeaf))
        #expect(s1.cas == s0.cas)
        #expect(s1.leaf?.serial != s0.leaf?.serial)
        guard case .wait = CertificatePlanner.next(s1, now: later, policy: policy) else {
            Issue.record("after the forced rotation the planner must wait")
            return
        }
    }

    @Test func aChangedSpecReissuesTheLeaf() throws {
        let policy = TLSPolicy(leafDuration: 90 * day)
        let ca = try PKI.issueCA(commonName: "ca", now: start, duration: policy.caDuration)
        let leaf = try PKI.issueLeaf(ca: ca, commonName: "obs", dnsNames: ["obs"], ipAddresses: [], usage: .server, now: start, duration: policy.leafDuration)
        let s = TLSState(cas: [ca], leaf: leaf, phase: .stable)
        #expect(CertificatePlanner.next(s, now: start, policy: policy, leafMismatch: true) == .issueLeaf(reason: "SpecChanged"))
        #expect(CertificatePlanner.next(nil, now: start, policy: policy) == .createCA)
        #expect(CertificatePlanner.next(TLSState(cas: [ca], leaf: nil, phase: .stable), now: start, policy: policy) == .issueLeaf(reason: "Missing"))
    }
}
