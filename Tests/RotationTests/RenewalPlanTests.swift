import Rotation
import Testing

@Suite struct RenewalPlanTests {
    let day = 86400.0

    @Test func renewalDefaultsToAThirdOfTheLifetimeBeforeExpiry() {
        #expect(RenewalPlan.renewalTime(notBefore: 0, notAfter: 90 * day, renewBefore: nil) == 60 * day)
    }

    @Test func anExplicitMarginIsUsed() {
        #expect(RenewalPlan.renewalTime(notBefore: 0, notAfter: 90 * day, renewBefore: 10 * day) == 80 * day)
    }

    @Test func aMarginLongerThanTheLifetimeStillLeavesTimeToServe() {
        let t = RenewalPlan.renewalTime(notBefore: 0, notAfter: 10 * day, renewBefore: 20 * day)
        #expect(t > 0 && t < 10 * day)
    }

    @Test(arguments: [
        ("a fresh certificate waits until its renewal time", 1.0, RenewalPlan.Decision.wait(until: 60 * 86400.0)),
        ("a certificate past its renewal time is renewed", 61 * 86400.0, .renew(reason: "RenewalDue")),
        ("an expired certificate is renewed", 91 * 86400.0, .renew(reason: "Expired")),
        ("a certificate not yet valid is renewed", -5.0, .renew(reason: "NotYetValid")),
    ])
    func decisions(_ name: String, _ now: Double, _ expected: RenewalPlan.Decision) {
        #expect(RenewalPlan.decide(now: now, notBefore: 0, notAfter: 90 * day, renewBefore: nil) == expected, "\(name)")
    }
}
