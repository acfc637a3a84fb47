import Foundation
import KubeModel
import Render
import Rotation

/// Issues certificates; `system` draws keys from the CSPRNG through swift-certificates.
public struct CertificateIssuer: Sendable {
    public var issueCA: @Sendable (_ commonName: String, _ now: Date, _ duration: TimeInterval, _ algorithm: KeyAlgorithm) throws -> IssuedCertificate
    public var issueLeaf: @Sendable (
        _ ca: IssuedCertificate, _ commonName: String, _ dnsNames: [String], _ ipAddresses: [String], _ usage: LeafUsage, _ now: Date,
        _ duration: TimeInterval, _ algorithm: KeyAlgorithm
    ) throws -> IssuedCertificate

    public static let system = CertificateIssuer(
        issueCA: { try PKI.issueCA(commonName: $0, now: $1, duration: $2, algorithm: $3) },
        issueLeaf: { try PKI.issueLeaf(ca: $0, commonName: $1, dnsNames: $2, ipAddresses: $3, usage: $4, now: $5, duration: $6, algorithm: $7) }
    )
}

/// The certificates of one stack in `SelfSigned` mode: reads the CA and serving Secrets
/// from the cache, asks the planner for the next step, issues what it says, and returns
/// the material Render turns into Secrets, the status and the next deadline. Every step is
/// one change to the Secrets, so a crash between steps only repeats the plan.
public struct CertificateReconciler: Sendable {
    public struct Outcome: Sendable {
        public var material: CertificateMaterial
        public var status: CertificateStatus
        public var requeueAfter: Double
        /// A Normal event to record, when something was issued.
        public var event: String?
        /// A Warning: state was rebuilt because its Secret was gone.
        public var warning: String? = nil
        /// Warnings of a rollover phase that waits for pods (when the list changes), or
        /// that `maxOverlap` ended while some had not restarted.
        public var consumerWarnings: [StackEvent] = []
        /// When what a client pod reads at start last changed, by client: its client
        /// certificate's issue, or the start of a CA rollover phase (a new bundle, or a
        /// client certificate from the new CA). Pods started before must restart onto it.
        public var changedAt: [String: Date] = [:]
        /// The trust bundle clients need (`ca.crt`).
        public var bundle: String { material.bundle }

        /// The Secrets this material becomes, as Render makes them.
        public func objects(_ ctx: StackContext) throws -> [DesiredObject] { try DesiredState.certificateSecrets(ctx, material) }

        /// What the stack's status and events say of it.
        var contribution: Contribution {
            var c = Contribution()
            c.requeueAfter = requeueAfter
            c.certificate = status
            var message = "serving certificate \(status.serial ?? "") valid until \(status.notAfter ?? "")"
            if let stale = status.staleConsumers, !stale.isEmpty {
                message += "; pods to restart by \(status.restartBy ?? ""): \(stale.prefix(20).joined(separator: ", "))\(stale.count > 20 ? " …" : "")"
            }
            c.conditions = [StackCondition(.certificateReady, true, reason: "Issued", message: message)]
            c.events += consumerWarnings
            if let warning {
                c.events.append(StackEvent(type: .warning, reason: "CARecovered", message: warning, log: "certificates: \(warning)"))
            }
            if let event {
                c.events += [
                    StackEvent(type: .normal, reason: "CertificateIssued", message: event, log: "certificates updated", logMetadata: ["steps": event, "serial": status.serial ?? ""])
                ]
            }
            return c
        }
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    let secrets: Store<Unstructured>
    let issuer: CertificateIssuer

    /// `secrets` caches the stack's managed Secrets.
    public init(secrets: Store<Unstructured>, issuer: CertificateIssuer = .system) {
        self.secrets = secrets
        self.issuer = issuer
    }

    /// The DNS names the serving certificate covers: the Service's names, and the spec's.
    public static func dnsNames(_ ctx: StackContext) -> [String] {
        let svc = ctx.names.collector
        let ns = ctx.namespace
        var names = [svc, "\(svc).\(ns)", "\(svc).\(ns).svc", "\(svc).\(ns).svc.cluster.local"]
        for n in ctx.raw.ingest?.tls?.dnsNames ?? [] where !names.contains(n) { names.append(n) }
        return names
    }

    /// The names the gateway's certificate covers: its headless Service's (agents dial pod
    /// addresses and check this name).
    public static func gatewayDNSNames(_ ctx: StackContext) -> [String] {
        let svc = ctx.names.gatewayHeadless
        let ns = ctx.namespace
        return [svc, "\(svc).\(ns)", "\(svc).\(ns).svc", "\(svc).\(ns).svc.cluster.local"]
    }

    /// The leaf the CA planner renews and carries through a CA rollover: the ingest serving
    /// certificate in SelfSigned mode; else (a gateway, with ingest TLS off or the user's)
    /// the gateway's.
    struct PrimaryLeaf {
        var secret: String
        var commonName: String
        var dnsNames: [String]
        var ipAddresses: [String]
    }

    static func primary(_ ctx: StackContext) -> PrimaryLeaf {
        if ctx.spec.issuesCertificates {
            return PrimaryLeaf(secret: ctx.names.ingestTLS, commonName: ctx.names.collector, dnsNames: dnsNames(ctx), ipAddresses: ctx.raw.ingest?.tls?.ipAddresses ?? [])
        }
        return PrimaryLeaf(secret: ctx.names.gatewayTLS, commonName: ctx.names.gateway, dnsNames: gatewayDNSNames(ctx), ipAddresses: [])
    }

    /// The rollover waits for client pods as long as the credentials' `maxOverlap` (clients
    /// exist only with BasicAuth).
    static func policy(_ spec: ResolvedSpec) -> TLSPolicy {
        TLSPolicy(leafDuration: spec.tlsDurationSeconds, leafRenewBefore: spec.tlsRenewBeforeSeconds, maxHold: spec.basicAuth ? spec.rotationMaxOverlapSeconds : nil)
    }

    /// Who the next step of a CA rollover would cut off, and whether it may go on. In
    /// NewCAInBundle, moving the leaf to the new CA cuts off pods that started before the
    /// new CA joined their bundle; in LeafOnNewCA with client certificates, dropping the old
    /// CA cuts off pods that started before their certificate moved to the new CA. The
    /// step may go on when no such pod is left and every client Secret carries what they
    /// would restart onto.
    struct Holders {
        var moved: Bool
        var stale: [String]
        static let none = Holders(moved: true, stale: [])
    }

    static func holders(_ ctx: StackContext, _ state: TLSState?, consumers: [PodSecretUse], clientSecrets: [String: Unstructured?]) -> Holders {
        guard let state, ctx.spec.issuesCertificates, ctx.spec.tlsEnabled, !clientSecrets.isEmpty else { return .none }
        let since: Date
        let holds: (Unstructured) -> Bool
        switch state.phase {
        case .stable: return .none
        case .newCAInBundle(let s):
            since = s
            let bundle = state.bundleFile
            holds = { $0.secretString("ca.crt") == bundle }
        case .leafOnNewCA(let s):
            guard ctx.spec.issuesClientCertificates, let newest = state.cas.last else { return .none }
            since = s
            holds = { secret in secret.secretString("tls.crt").map { PKI.issuer(of: $0, among: [newest.certificatePEM]) != nil } ?? false }
        }
        let stale = consumers.filter { $0.started(atOrBefore: since) }.map(\.key).sorted()
        let allHold = clientSecrets.values.allSatisfy { $0.map(holds) ?? true }
        return Holders(moved: stale.isEmpty && allHold, stale: stale)
    }

    static func algorithm(_ spec: ResolvedSpec) -> KeyAlgorithm { KeyAlgorithm(spec: spec.keyAlgorithm.rawValue, size: spec.keySize) }

    static func encodePhase(_ p: CAPhase) -> String {
        switch p {
        case .stable: return "Stable"
        case .newCAInBundle(let since): return "NewCAInBundle@\(Int(since.timeIntervalSince1970))"
        case .leafOnNewCA(let since): return "LeafOnNewCA@\(Int(since.timeIntervalSince1970))"
        }
    }

    static func decodePhase(_ s: String?) -> CAPhase {
        guard let s else { return .stable }
        let parts = s.split(separator: "@")
        let since = parts.count == 2 ? Double(parts[1]).map { Date(timeIntervalSince1970: $0) } : nil
        switch (parts.first, since) {
        case ("NewCAInBundle"?, let t?): return .newCAInBundle(since: t)
        case ("LeafOnNewCA"?, let t?): return .leafOnNewCA(since: t)
        default: return .stable
        }
    }

    /// The state the Secrets hold, or nil when there is none (or it is unreadable, and is
    /// then replaced by a fresh CA: a self-signed CA has no other source of truth).
    func currentState(_ ctx: StackContext) -> TLSState? {
        let caSecret = secrets.get("\(ctx.namespace)/\(ctx.names.ca)")
        let tlsSecret = secrets.get("\(ctx.namespace)/\(Self.primary(ctx).secret)")
        guard let caCert = caSecret?.secretString("tls.crt"), let caKey = caSecret?.secretString("tls.key"),
            let current = try? PKI.load(certificatePEM: caCert, privateKeyPEM: caKey)
        else { return nil }
        var cas = [current]
        if let pc = caSecret?.secretString("previous.crt") {
            // A previous CA recovered from the bundle has no key: it is trusted, never signs.
            let pk = caSecret?.secretString("previous.key") ?? ""
            if let previous = pk.isEmpty ? try? PKI.loadCertificate(pc) : try? PKI.load(certificatePEM: pc, privateKeyPEM: pk) {
                cas.insert(previous, at: 0)
            }
        }
        var leaf: IssuedCertificate? = nil
        if let lc = tlsSecret?.secretString("tls.crt"), let lk = tlsSecret?.secretString("tls.key") {
            leaf = try? PKI.load(certificatePEM: lc, privateKeyPEM: lk)
        }
        let phase = cas.count == 2 ? Self.decodePhase(caSecret?.metadata.annotations?[Annotations.caPhase]) : .stable
        return TLSState(cas: cas, leaf: leaf, phase: cas.count == 2 && phase == .stable ? .newCAInBundle(since: current.notBefore) : phase)
    }

    /// The CA Secret is gone but the serving certificate is still live and in date: the CA
    /// that signed it, from the bundle clients hold (its key is lost), and the leaf.
    func recoverable(_ ctx: StackContext, now: Date) -> TLSState? {
        let tls = secrets.get("\(ctx.namespace)/\(Self.primary(ctx).secret)")
        guard secrets.get("\(ctx.namespace)/\(ctx.names.ca)") == nil, let crt = tls?.secretString("tls.crt"), let key = tls?.secretString("tls.key"),
            let bundle = tls?.secretString("ca.crt"), let leaf = try? PKI.load(certificatePEM: crt, privateKeyPEM: key), now < leaf.notAfter,
            let issuerPEM = PKI.issuer(of: crt, among: PKI.certificates(inBundle: bundle)), let ca = try? PKI.loadCertificate(issuerPEM)
        else { return nil }
        return TLSState(cas: [ca], leaf: leaf, phase: .stable)
    }

    /// Takes the planner's steps due now (a first CA and its leaf may be due at once; each
    /// is planned afresh) and returns the state, what was issued, the request honoured, and
    /// the pods a step cut off because `maxOverlap` passed before they restarted, and who
    /// the resulting state's phase waits for.
    func advance(
        _ ctx: StackContext, from start: TLSState?, now: Date, consumers: [PodSecretUse] = [], clientSecrets: [String: Unstructured?] = [:]
    ) throws -> (state: TLSState?, issued: [String], handled: String?, recovered: String?, forcedOut: [String], holders: Holders) {
        let policy = Self.policy(ctx.spec)
        let algorithm = Self.algorithm(ctx.spec)
        let primary = Self.primary(ctx)
        let dns = primary.dnsNames
        let ips = primary.ipAddresses
        let forceToken = ctx.stack.metadata.annotations?[Annotations.rotateCertificate]
        var handled = secrets.get("\(ctx.namespace)/\(primary.secret)")?.metadata.annotations?[Annotations.certificateRotatedFor]
        var state = start
        var issued: [String] = []
        let issuer = self.issuer
        let caName = "vigil \(ctx.namespace)/\(ctx.name) CA"
        // A lost CA Secret while its leaf is served: a new CA joins the bundle beside the
        // old one (from the bundle), as in a rollover, never a hard switch.
        var recovered: String? = nil
        var forcedOut: [String] = []
        var settled: Holders? = nil
        if start == nil, let old = recoverable(ctx, now: now) {
            state = try CertificatePlanner.apply(
                .addNewCA, to: old, now: now, policy: policy, issueCA: { t in try issuer.issueCA(caName, t, policy.caDuration, algorithm) },
                issueLeaf: { _, _ in old.leaf! }
            )
            recovered = "the CA Secret \(ctx.names.ca) was gone: a new CA joined the bundle beside the one that signed the serving certificate (serial \(old.leaf?.serial ?? "")), which is served until clients hold the new bundle"
            issued.append("addNewCA (recovered)")
        }
        let leafName = primary.commonName
        for _ in 0..<6 {
            let mismatch: Bool = {
                guard let leaf = state?.leaf, let sans = try? PKI.subjectAlternativeNames(certificatePEM: leaf.certificatePEM) else { return false }
                return Set(sans.dns) != Set(dns) || Set(sans.ips) != Set(ips.compactMap(PKI.canonicalIP))
            }()
            let force = forceToken != nil && forceToken != handled
            // The old CA goes only if the leaf in hand is the new CA's.
            // (Checked only in the phase where it decides anything: it verifies a signature.)
            let onNewest: Bool = {
                guard case .leafOnNewCA? = state?.phase, let leaf = state?.leaf, let newest = state?.cas.last else { return true }
                return PKI.issuer(of: leaf.certificatePEM, among: [newest.certificatePEM]) != nil
            }()
            let holders = Self.holders(ctx, state, consumers: consumers, clientSecrets: clientSecrets)
            let step = CertificatePlanner.next(
                state, now: now, policy: policy, forceRenewal: force, leafMismatch: mismatch, leafOnNewestCA: onNewest, consumersMoved: holders.moved)
            if case .wait = step {
                settled = holders
                break
            }
            switch step {
            case .moveLeafToNewCA, .dropOldCA: forcedOut += holders.stale
            default: break
            }
            state = try CertificatePlanner.apply(
                step, to: state, now: now, policy: policy,
                issueCA: { t in try issuer.issueCA(caName, t, policy.caDuration, algorithm) },
                issueLeaf: { ca, t in try issuer.issueLeaf(ca, leafName, dns, ips, .server, t, policy.leafDuration, algorithm) }
            )
            if force { handled = forceToken }
            issued.append("\(step)")
        }
        return (state, issued, handled, recovered, forcedOut, settled ?? Self.holders(ctx, state, consumers: consumers, clientSecrets: clientSecrets))
    }

    /// Client certificates for the declared clients: kept while they are from the signing
    /// CA and before their renewal time, issued afresh otherwise. Returns them, what was
    /// issued and the earliest renewal.
    func clientCertificates(
        _ ctx: StackContext, signer: IssuedCertificate, now: Date
    ) throws -> (certificates: [String: IssuedCertificate], issued: [String], renewal: Date?) {
        let policy = Self.policy(ctx.spec)
        let existing = secrets.get("\(ctx.namespace)/\(ctx.names.clientCertificates)")
        var certificates: [String: IssuedCertificate] = [:]
        var issued: [String] = []
        var renewal: Date? = nil
        for client in ctx.spec.clients.map(\.name).sorted() {
            var cert: IssuedCertificate? = nil
            if let pem = existing?.secretString("\(client).crt"), let key = existing?.secretString("\(client).key"),
                existing?.secretString("\(client).issuer") == signer.serial, let loaded = try? PKI.load(certificatePEM: pem, privateKeyPEM: key),
                now < Self.clientRenewalTime(loaded, policy)
            {
                cert = loaded
            }
            if cert == nil {
                cert = try issuer.issueLeaf(signer, client, [], [], .client, now, policy.leafDuration, Self.algorithm(ctx.spec))
                issued.append("client certificate for \(client)")
            }
            guard let cert else { continue }
            certificates[client] = cert
            let r = Self.clientRenewalTime(cert, policy)
            renewal = renewal.map { min($0, r) } ?? r
        }
        return (certificates, issued, renewal)
    }

    /// A certificate Secret's leaf, while it is from `signer` and before its renewal time.
    func kept(_ ctx: StackContext, secret name: String, signer: IssuedCertificate, now: Date) -> IssuedCertificate? {
        guard let secret = secrets.get("\(ctx.namespace)/\(name)"), secret.metadata.annotations?[Annotations.issuerSerial] == signer.serial,
            let pem = secret.secretString("tls.crt"), let key = secret.secretString("tls.key"), let loaded = try? PKI.load(certificatePEM: pem, privateKeyPEM: key),
            now < Self.renewalTime(loaded, Self.policy(ctx.spec))
        else { return nil }
        return loaded
    }

    /// The two ends of the agent-to-gateway mTLS, from the CA that signs now: the gateway's
    /// serving certificate (the planner's leaf when Vigil issues no ingest certificate) and
    /// the agents' client certificate. Kept while from that CA and before their renewal.
    func gatewayCertificates(
        _ ctx: StackContext, state: TLSState, signer: IssuedCertificate, now: Date
    ) throws -> (certificates: CertificateMaterial.GatewayCertificates, issued: [String], renewal: Date) {
        let policy = Self.policy(ctx.spec)
        let algorithm = Self.algorithm(ctx.spec)
        var issued: [String] = []
        let server: IssuedCertificate
        if !ctx.spec.issuesCertificates, let leaf = state.leaf {
            server = leaf
        } else if let k = kept(ctx, secret: ctx.names.gatewayTLS, signer: signer, now: now) {
            server = k
        } else {
            server = try issuer.issueLeaf(signer, ctx.names.gateway, Self.gatewayDNSNames(ctx), [], .server, now, policy.leafDuration, algorithm)
            issued.append("gateway certificate")
        }
        let agent: IssuedCertificate
        if let k = kept(ctx, secret: ctx.names.agentTLS, signer: signer, now: now) {
            agent = k
        } else {
            agent = try issuer.issueLeaf(signer, Naming.name(ctx.name, "agent"), [], [], .client, now, policy.leafDuration, algorithm)
            issued.append("agent client certificate")
        }
        let renewal = min(Self.renewalTime(server, policy), Self.renewalTime(agent, policy))
        return (.init(server: Self.pem(server), agent: Self.pem(agent), issuerSerial: signer.serial), issued, renewal)
    }

    static func renewalTime(_ cert: IssuedCertificate, _ policy: TLSPolicy) -> Date {
        Date(timeIntervalSince1970: RenewalPlan.renewalTime(
            notBefore: cert.notBefore.timeIntervalSince1970, notAfter: cert.notAfter.timeIntervalSince1970, renewBefore: policy.leafRenewBefore))
    }

    /// When a client certificate is renewed: at its renewal time, and early enough that the
    /// one it replaces (held by pods that started before) stays valid for `maxHold` after
    /// (at most a third of its lifetime).
    static func clientRenewalTime(_ cert: IssuedCertificate, _ policy: TLSPolicy) -> Date {
        min(renewalTime(cert, policy), cert.notAfter.addingTimeInterval(-replacedValidity(cert, policy)))
    }

    /// How long a client certificate stays valid after the one that replaces it is issued.
    static func replacedValidity(_ cert: IssuedCertificate, _ policy: TLSPolicy) -> TimeInterval {
        min(policy.maxHold, cert.notAfter.timeIntervalSince(cert.notBefore) / 3)
    }

    /// When a certificate was issued: its start of validity is backdated for clock skew.
    static func issueTime(_ cert: IssuedCertificate) -> Date { cert.notBefore.addingTimeInterval(PKI.backdate) }

    /// `consumers`: the pods that read the stack's client Secrets; `clientSecrets`: each
    /// writable client's live Secret. A rollover step that would cut pods off waits for them.
    public func reconcile(_ ctx: StackContext, now: Date, consumers: [PodSecretUse] = [], clientSecrets: [String: Unstructured?] = [:]) throws -> Outcome {
        let policy = Self.policy(ctx.spec)
        let advanced = try advance(ctx, from: currentState(ctx), now: now, consumers: consumers, clientSecrets: clientSecrets)
        var issued = advanced.issued
        guard let state = advanced.state, let leaf = state.leaf, let ca = state.cas.last else { throw Failure(description: "no certificate could be issued") }
        let next = CertificatePlanner.next(state, now: now, policy: policy)
        var requeue = 3600.0
        if case .wait(let until) = next { requeue = max(1, until.timeIntervalSince(now)) }
        // mTLS: client certificates from the CA that signs now, so that they move to a
        // new CA with the serving leaf, while the old CA is still in the bundle.
        var clients: CertificateMaterial.ClientCertificates? = nil
        var changedAt: [String: Date] = [:]
        var issuedToClients: [String: IssuedCertificate] = [:]
        if ctx.spec.issuesCertificates, ctx.spec.tlsEnabled {
            switch state.phase {
            case .stable: break
            case .newCAInBundle(let since), .leafOnNewCA(let since):
                for c in ctx.spec.clients { changedAt[c.name] = since }
            }
        }
        if ctx.spec.issuesCertificates, ctx.spec.issuesClientCertificates, !ctx.spec.clients.isEmpty, let signer = state.signingCA {
            let c = try clientCertificates(ctx, signer: signer, now: now)
            issuedToClients = c.certificates
            for (client, cert) in c.certificates {
                let issued = Self.issueTime(cert)
                changedAt[client] = max(changedAt[client] ?? issued, issued)
            }
            clients = .init(byClient: c.certificates.mapValues(Self.pem), issuerSerial: signer.serial)
            issued += c.issued
            if let r = c.renewal { requeue = min(requeue, max(1, r.timeIntervalSince(now))) }
        }
        var gateway: CertificateMaterial.GatewayCertificates? = nil
        if ctx.hasGateway, let signer = state.signingCA {
            let g = try gatewayCertificates(ctx, state: state, signer: signer, now: now)
            gateway = g.certificates
            issued += g.issued
            requeue = min(requeue, max(1, g.renewal.timeIntervalSince(now)))
        }
        let material = CertificateMaterial(
            currentCA: Self.pem(ca), previousCA: state.cas.count == 2 ? Self.pem(state.cas[0]) : nil, caPhase: Self.encodePhase(state.phase),
            leaf: Self.pem(leaf), bundle: state.bundleFile, handledRotationRequest: advanced.handled, clientCertificates: clients, gateway: gateway
        )
        let renewal = Self.renewalTime(leaf, policy)
        let phaseName = Self.encodePhase(state.phase).split(separator: "@").first.map(String.init) ?? "Stable"
        var status = CertificateStatus(notAfter: leaf.notAfter.formatted(.iso8601), renewalTime: renewal.formatted(.iso8601), serial: leaf.serial, caPhase: phaseName)
        var warnings: [StackEvent] = []
        // Who must restart, and by when: pods a rollover phase waits for (until it ends at
        // the latest), and, with mTLS, pods holding a client certificate that was renewed
        // since they started (valid a while yet: see `clientRenewalTime`).
        var stale = Set<String>()
        var restartBy: Date? = nil
        switch state.phase {
        case .stable: break
        case .newCAInBundle(let since), .leafOnNewCA(let since):
            let holders = advanced.holders.stale
            stale.formUnion(holders)
            if !holders.isEmpty { restartBy = since.addingTimeInterval(policy.maxHold) }
        }
        if ctx.spec.tlsEnabled {
            for c in ctx.spec.clients {
                guard let cert = issuedToClients[c.name] else { continue }
                let issued = Self.issueTime(cert)
                let holding = consumers.filter { $0.metadata.namespace == c.namespace && $0.started(atOrBefore: issued) }.map(\.key)
                guard !holding.isEmpty else { continue }
                stale.formUnion(holding)
                let by = issued.addingTimeInterval(Self.replacedValidity(cert, policy))
                restartBy = min(restartBy ?? by, by)
            }
        }
        if !stale.isEmpty {
            let list = stale.sorted()
            status.staleConsumers = list
            status.restartBy = restartBy?.formatted(.iso8601)
            if ctx.stack.status?.certificate?.staleConsumers != list {
                let message = "these pods started before their client Secret carried the current trust bundle or client certificate, and must restart before \(status.restartBy ?? ""): \(list.joined(separator: ", "))"
                warnings.append(StackEvent(type: .warning, reason: "StaleConsumers", message: message, log: "certificates: \(message)"))
            }
        }
        if !advanced.forcedOut.isEmpty {
            let message = "rotation.maxOverlap passed: the CA rollover went on while these pods had not restarted (their TLS is refused until they do): \(advanced.forcedOut.joined(separator: ", "))"
            warnings.append(StackEvent(type: .warning, reason: "PreviousCAForcedOut", message: message, log: "certificates: \(message)"))
        }
        return Outcome(
            material: material,
            status: status,
            requeueAfter: requeue,
            event: issued.isEmpty ? nil : "certificates: " + issued.joined(separator: ", "),
            warning: advanced.recovered,
            consumerWarnings: warnings,
            changedAt: changedAt
        )
    }

    static func pem(_ c: IssuedCertificate) -> KeyPairPEM { KeyPairPEM(certificate: c.certificatePEM, privateKey: c.privateKeyPEM) }
}
