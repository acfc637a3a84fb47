import TestSupport
import Foundation
import Rotation
import Testing
import X509

/// The planner's decisions where rotation could stop or cut clients off.
@Suite struct CertificatePlannerTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = TLSPolicy(leafDuration: 30 * 86400)

    func cert(_ serial: String, from: Date, days: Double, key: String = "k") -> IssuedCertificate {
        IssuedCertificate(certificatePEM: "pem-\(serial)", privateKeyPEM: key, notBefore: from, notAfter: from.addingTimeInterval(days * 86400), serial: serial)
    }

    @Test func theOldCALeavesOnlyWhenTheLiveLeafIsTheNewCAs() {
        let state = TLSState(cas: [cert("old", from: t0, days: 365), cert("new", from: t0, days: 365)], leaf: cert("leaf", from: t0, days: 30), phase: .leafOnNewCA(since: t0))
        let after = t0.addingTimeInterval(policy.bundleGrace + 1)
        #expect(CertificatePlanner.next(state, now: after, policy: policy, leafOnNewestCA: true) == .dropOldCA)
        // The leaf write failed: the old CA's leaf is still served. Issue it again first.
        #expect(CertificatePlanner.next(state, now: after, policy: policy, leafOnNewestCA: false) == .moveLeafToNewCA)
    }

    @Test func anExpiredCAGoesThroughTheRolloverAtOnce() {
        let old = cert("old", from: t0, days: 365)
        let expired = t0.addingTimeInterval(400 * 86400)
        let stable = TLSState(cas: [old], leaf: cert("leaf", from: t0, days: 30), phase: .stable)
        #expect(CertificatePlanner.next(stable, now: expired, policy: policy) == .addNewCA)
        // With the old CA expired nothing is gained by waiting: the leaf moves now.
        let rolling = TLSState(cas: [old, cert("new", from: expired, days: 365)], leaf: stable.leaf, phase: .newCAInBundle(since: expired))
        #expect(CertificatePlanner.next(rolling, now: expired, policy: policy) == .moveLeafToNewCA)
        // Before it expires, the grace is kept.
        let early = t0.addingTimeInterval(300 * 86400)
        let normal = TLSState(cas: [old, cert("new", from: early, days: 365)], leaf: cert("leaf2", from: early, days: 30), phase: .newCAInBundle(since: early))
        #expect(CertificatePlanner.next(normal, now: early, policy: policy) == .wait(until: early.addingTimeInterval(policy.bundleGrace)))
    }

    @Test func aCAWhoseKeyIsLostNeverSigns() {
        let state = TLSState(cas: [cert("old", from: t0, days: 365, key: ""), cert("new", from: t0, days: 365)], leaf: nil, phase: .newCAInBundle(since: t0))
        #expect(state.signingCA?.serial == "new")
    }
}
