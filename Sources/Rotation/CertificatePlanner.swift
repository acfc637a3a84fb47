import Foundation

/// PEM blocks concatenated into one file, each ending in a newline (a block without one
/// would run into the next and the file would not parse).
public func pemFile(_ blocks: [String]) -> String {
    blocks.map { $0.hasSuffix("\n") ? $0 : $0 + "\n" }.joined()
}

/// Lifetimes and margins for a stack's CA and serving leaf.
public struct TLSPolicy: Sendable, Hashable {
    public var leafDuration: TimeInterval
    public var leafRenewBefore: TimeInterval?
    public var caDuration: TimeInterval
    public var caRenewBefore: TimeInterval
    /// How long clients hold a new trust bundle before a leaf from the new CA is served,
    /// and before the old CA leaves the bundle.
    public var bundleGrace: TimeInterval
    /// How long each of those two steps waits, past `bundleGrace`, for the clients that
    /// started before it (they read the bundle and their client certificate once, at
    /// start) to restart. Never less than `bundleGrace`.
    public var maxHold: TimeInterval

    public init(leafDuration: TimeInterval, leafRenewBefore: TimeInterval? = nil, maxHold: TimeInterval? = nil) {
        let day = 86400.0
        self.leafDuration = leafDuration
        self.leafRenewBefore = leafRenewBefore
        caDuration = max(365 * day, 4 * leafDuration)
        caRenewBefore = caDuration / 3
        bundleGrace = min(7 * day, max(leafDuration / 6, 600))
        self.maxHold = max(bundleGrace, maxHold ?? 0)
    }
}

/// The CA rollover, recorded so that a restarted operator resumes where it stopped.
public enum CAPhase: Sendable, Hashable, Codable {
    /// One CA signs the leaf and is the whole bundle.
    case stable
    /// A new CA joined the bundle at `since`; the leaf is still from the old one.
    case newCAInBundle(since: Date)
    /// The leaf moved to the new CA at `since`; the old CA is still in the bundle.
    case leafOnNewCA(since: Date)
}

/// A stack's certificate state: CAs oldest first (two during a rollover), the serving
/// leaf, and the rollover phase.
public struct TLSState: Sendable, Hashable, Codable {
    public var cas: [IssuedCertificate]
    public var leaf: IssuedCertificate?
    public var phase: CAPhase

    public init(cas: [IssuedCertificate], leaf: IssuedCertificate?, phase: CAPhase) {
        self.cas = cas
        self.leaf = leaf
        self.phase = phase
    }

    /// What clients must trust: every CA held.
    public var bundlePEM: [String] { cas.map(\.certificatePEM) }

    /// The bundle as one PEM file (`ca.crt`), each certificate ending in a newline.
    public var bundleFile: String { pemFile(bundlePEM) }

    /// The CA that signs leaves now. A CA whose key was lost (recovered from the bundle
    /// alone) signs nothing: the newest CA with a key does.
    public var signingCA: IssuedCertificate? {
        let preferred: IssuedCertificate?
        switch phase {
        case .newCAInBundle: preferred = cas.first
        case .stable, .leafOnNewCA: preferred = cas.last
        }
        if let p = preferred, p.privateKeyPEM.isEmpty { return cas.last { !$0.privateKeyPEM.isEmpty } }
        return preferred
    }
}

/// Decides the next certificate step from the state and the time alone. Every step moves
/// the state forward by one idempotent change, so an operator that crashes between steps
/// plans the same step again.
public enum CertificatePlanner {
    public enum Step: Sendable, Hashable {
        case createCA
        case issueLeaf(reason: String)
        /// Start a rollover: a new CA joins the bundle.
        case addNewCA
        /// After the grace period: the leaf is issued from the new CA.
        case moveLeafToNewCA
        /// After another grace period: the old CA leaves the bundle.
        case dropOldCA
        /// Nothing to do until this time.
        case wait(until: Date)
    }

    /// `leafOnNewestCA`: whether the serving Secret, as read from the cluster, holds a leaf
    /// signed by the newest CA. The old CA leaves the bundle only then (a leaf write that
    /// failed mid-rollover leaves the old leaf served: it is issued again first).
    /// `consumersMoved`: whether every client that the phase's step would cut off has
    /// restarted since the phase began (in NewCAInBundle: onto the new bundle; in
    /// LeafOnNewCA: onto a client certificate from the new CA). Until then, and at most
    /// until `maxHold` after the phase began, the step waits.
    public static func next(
        _ state: TLSState?, now: Date, policy: TLSPolicy, forceRenewal: Bool = false, leafMismatch: Bool = false, leafOnNewestCA: Bool = true,
        consumersMoved: Bool = true
    ) -> Step {
        guard let state, let newest = state.cas.last else { return .createCA }
        var deadlines: [Date] = []
        switch state.phase {
        case .stable:
            // An expired CA too: a rollover, never a dead end.
            let caRenewal = newest.notAfter.addingTimeInterval(-policy.caRenewBefore)
            if now >= caRenewal { return .addNewCA }
            deadlines.append(caRenewal)
        case .newCAInBundle(let since):
            // Nothing is gained by waiting for clients once the old CA has expired: no
            // client can verify its leaf any more.
            let move = since.addingTimeInterval(policy.bundleGrace)
            let latest = since.addingTimeInterval(policy.maxHold)
            if now >= (state.cas.first?.notAfter ?? .distantFuture) { return .moveLeafToNewCA }
            if now >= move && (consumersMoved || now >= latest) { return .moveLeafToNewCA }
            deadlines.append(now >= move ? latest : move)
        case .leafOnNewCA(let since):
            let drop = since.addingTimeInterval(policy.bundleGrace)
            let latest = since.addingTimeInterval(policy.maxHold)
            if now >= drop && !leafOnNewestCA { return .moveLeafToNewCA }
            if now >= drop && (consumersMoved || now >= latest) { return .dropOldCA }
            deadlines.append(now >= drop ? latest : drop)
        }
        guard let leaf = state.leaf else { return .issueLeaf(reason: "Missing") }
        if forceRenewal { return .issueLeaf(reason: "ForcedRotation") }
        if leafMismatch { return .issueLeaf(reason: "SpecChanged") }
        switch RenewalPlan.decide(
            now: now.timeIntervalSince1970, notBefore: leaf.notBefore.timeIntervalSince1970, notAfter: leaf.notAfter.timeIntervalSince1970,
            renewBefore: policy.leafRenewBefore
        ) {
        case .renew(let reason): return .issueLeaf(reason: reason)
        case .wait(let until): deadlines.append(Date(timeIntervalSince1970: until))
        }
        return .wait(until: deadlines.min()!)
    }

    /// Carries out one step. Issuing is the only effect; everything else is state.
    public static func apply(
        _ step: Step, to state: TLSState?, now: Date, policy: TLSPolicy, issueCA: (Date) throws -> IssuedCertificate,
        issueLeaf: (IssuedCertificate, Date) throws -> IssuedCertificate
    ) throws -> TLSState? {
        switch step {
        case .wait:
            return state
        case .createCA:
            let ca = try issueCA(now)
            return TLSState(cas: [ca], leaf: try issueLeaf(ca, now), phase: .stable)
        case .issueLeaf:
            guard var s = state, let ca = s.signingCA else { return state }
            s.leaf = try issueLeaf(ca, now)
            return s
        case .addNewCA:
            guard var s = state, let current = s.cas.last else { return state }
            s.cas = [current, try issueCA(now)]
            s.phase = .newCAInBundle(since: now)
            return s
        case .moveLeafToNewCA:
            guard var s = state, let new = s.cas.last else { return state }
            s.leaf = try issueLeaf(new, now)
            s.phase = .leafOnNewCA(since: now)
            return s
        case .dropOldCA:
            guard var s = state, let new = s.cas.last else { return state }
            s.cas = [new]
            s.phase = .stable
            return s
        }
    }
}
