import KubeModel

/// When a certificate should be renewed: `notAfter - renewBefore`, where `renewBefore`
/// defaults to a third of the lifetime and is capped below it. Pure: the caller passes
/// the current time, and gets back both the decision and the next deadline to schedule.
public struct RenewalPlan: Sendable, Hashable {
    public enum Decision: Sendable, Hashable {
        /// Valid and not yet due: look again at `at`.
        case wait(until: Double)
        /// Due (or expired, or not yet valid): renew now.
        case renew(reason: String)
    }

    /// Seconds since the Unix epoch at which renewal becomes due.
    public static func renewalTime(notBefore: Double, notAfter: Double, renewBefore: Double?) -> Double {
        let lifetime = max(0, notAfter - notBefore)
        var margin = renewBefore ?? lifetime / 3
        // A margin at or past the lifetime would renew forever; keep a tenth of it.
        if margin >= lifetime { margin = lifetime * 0.9 }
        return notAfter - margin
    }

    public static func decide(now: Double, notBefore: Double, notAfter: Double, renewBefore: Double?) -> Decision {
        if now >= notAfter { return .renew(reason: "Expired") }
        if now < notBefore { return .renew(reason: "NotYetValid") }
        let at = renewalTime(notBefore: notBefore, notAfter: notAfter, renewBefore: renewBefore)
        if now >= at { return .renew(reason: "RenewalDue") }
        return .wait(until: at)
    }
}
