import Foundation
import KubeModel
import Render
import Rotation

/// The certificates of one stack in `SelfSigned` mode: reads the CA and serving Secrets
/// from the cache, asks the planner for the next step, issues what it says, and returns
/// the Secrets to apply, the status and the next deadline. Every step is one change to
/// the Secrets, so a crash between steps only repeats the plan.
public struct CertificateManager: Sendable {
    public static let forceAnnotation = "observability.vigil.dev/rotate-certificate"
    static let handledAnnotation = "observability.vigil.dev/rotated-for"
    static let phaseAnnotation = "observability.vigil.dev/ca-phase"

    public struct Outcome: Sendable {
        public var objects: [DesiredObject]
        public var status: CertificateStatus
        public var requeueAfter: Double
        /// A Normal event to record, when something was issued.
        public var event: String?
        /// The trust bundle clients need (`ca.crt`).
        public var bundle: String
        /// With `clientAuth` Optional or Required: each declared client's certificate,
        /// from the CA that signs now.
        public var clientCertificates: [String: IssuedCertificate] = [:]
    }

    /// The Secret holding each client's certificate (`<client>.crt`, `<client>.key`, and
    /// `<client>.issuer`, the serial of the CA that signed it): the source the client
    /// Secrets are filled from.
    public static func clientCertificatesSecretName(_ stack: String) -> String { Naming.name(stack, "client-certs") }

    /// Client certificates for the declared clients: kept while they are from the signing
    /// CA and before their renewal time, issued afresh otherwise. Returns them, the
    /// Secret, what was issued and the earliest renewal.
    func clientCertificates(
        _ stack: ObservabilityStack, signer: IssuedCertificate, policy: TLSPolicy, algorithm: KeyAlgorithm, now: Date
    ) throws -> (certificates: [String: IssuedCertificate], object: DesiredObject, issued: [String], renewal: Date?) {
        let ns = stack.metadata.namespace ?? ""
        let name = stack.metadata.name ?? ""
        let existing = secrets.get("\(ns)/\(Self.clientCertificatesSecretName(name))")
        var certificates: [String: IssuedCertificate] = [:]
        var issued: [String] = []
        var renewal: Date? = nil
        for client in EffectiveSpec(stack.spec).clients.map(\.name).sorted() {
            var cert: IssuedCertificate? = nil
            if let pem = existing?.secretString("\(client).crt"), let key = existing?.secretString("\(client).key"),
                existing?.secretString("\(client).issuer") == signer.serial, let loaded = try? PKI.load(certificatePEM: pem, privateKeyPEM: key),
                now < Self.renewalTime(loaded, policy)
            {
                cert = loaded
            }
            if cert == nil {
                cert = try PKI.issueLeaf(
                    ca: signer, commonName: client, dnsNames: [], ipAddresses: [], usage: .client, now: now, duration: policy.leafDuration, algorithm: algorithm
                )
                issued.append("client certificate for \(client)")
            }
            guard let cert else { continue }
            certificates[client] = cert
            let r = Self.renewalTime(cert, policy)
            renewal = renewal.map { min($0, r) } ?? r
        }
        var data: [String: JSONValue] = [:]
        for (client, cert) in certificates {
            data["\(client).crt"] = JSONValue.secretData(cert.certificatePEM)
            data["\(client).key"] = JSONValue.secretData(cert.privateKeyPEM)
            data["\(client).issuer"] = JSONValue.secretData(signer.serial)
        }
        let body = stampObject(
            ["apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": ["name": .string(Self.clientCertificatesSecretName(name))], "data": .object(data)],
            for: stack, component: "certificates"
        )
        let object = try DesiredObject(resource: Secret.resource, namespace: ns, name: Self.clientCertificatesSecretName(name), body: body)
        return (certificates, object, issued, renewal)
    }

    static func renewalTime(_ cert: IssuedCertificate, _ policy: TLSPolicy) -> Date {
        Date(timeIntervalSince1970: RenewalPlan.renewalTime(
            notBefore: cert.notBefore.timeIntervalSince1970, notAfter: cert.notAfter.timeIntervalSince1970, renewBefore: policy.leafRenewBefore))
    }

    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    let secrets: Store<Unstructured>

    /// `secrets` caches the stack's managed Secrets.
    public init(secrets: Store<Unstructured>) { self.secrets = secrets }

    /// The DNS names the serving certificate covers: the Service's names, and the spec's.
    public static func dnsNames(_ stack: ObservabilityStack) -> [String] {
        let svc = Naming.collector(stack.metadata.name ?? "")
        let ns = stack.metadata.namespace ?? "default"
        var names = [svc, "\(svc).\(ns)", "\(svc).\(ns).svc", "\(svc).\(ns).svc.cluster.local"]
        for n in stack.spec.ingest?.tls?.dnsNames ?? [] where !names.contains(n) { names.append(n) }
        return names
    }


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
    func currentState(_ stack: ObservabilityStack) -> TLSState? {
        let ns = stack.metadata.namespace ?? ""
        let name = stack.metadata.name ?? ""
        let caSecret = secrets.get("\(ns)/\(Naming.ca(name))")
        let tlsSecret = secrets.get("\(ns)/\(Naming.ingestTLS(name))")
        guard let caCert = caSecret?.secretString("tls.crt"), let caKey = caSecret?.secretString("tls.key"),
            let current = try? PKI.load(certificatePEM: caCert, privateKeyPEM: caKey)
        else { return nil }
        var cas = [current]
        if let pc = caSecret?.secretString("previous.crt"), let pk = caSecret?.secretString("previous.key"), let previous = try? PKI.load(certificatePEM: pc, privateKeyPEM: pk) {
            cas.insert(previous, at: 0)
        }
        var leaf: IssuedCertificate? = nil
        if let lc = tlsSecret?.secretString("tls.crt"), let lk = tlsSecret?.secretString("tls.key") {
            leaf = try? PKI.load(certificatePEM: lc, privateKeyPEM: lk)
        }
        let phase = cas.count == 2 ? Self.decodePhase(caSecret?.metadata.annotations?[Self.phaseAnnotation]) : .stable
        return TLSState(cas: cas, leaf: leaf, phase: cas.count == 2 && phase == .stable ? .newCAInBundle(since: current.notBefore) : phase)
    }

    public func reconcile(_ stack: ObservabilityStack, now: Date) throws -> Outcome {
        let tls = stack.spec.ingest?.tls
        let eff = EffectiveSpec(stack.spec)
        let duration = (try? DurationParser.seconds(eff.tlsDuration)) ?? 90 * 86400
        let renewBefore = eff.tlsRenewBefore.flatMap { try? DurationParser.seconds($0) }
        let policy = TLSPolicy(leafDuration: duration, leafRenewBefore: renewBefore)
        let algorithm = KeyAlgorithm(spec: tls?.keyAlgorithm, size: tls?.keySize)
        let dns = Self.dnsNames(stack)
        let ips = tls?.ipAddresses ?? []
        let ns = stack.metadata.namespace ?? ""
        let name = stack.metadata.name ?? ""
        let tlsSecret = secrets.get("\(ns)/\(Naming.ingestTLS(name))")

        var state = currentState(stack)
        let forceToken = stack.metadata.annotations?[Self.forceAnnotation]
        var handled = tlsSecret?.metadata.annotations?[Self.handledAnnotation]
        var issued: [String] = []
        // A few steps may be due at once (a first CA and its leaf); each is planned afresh.
        for _ in 0..<6 {
            let mismatch: Bool = {
                guard let leaf = state?.leaf, let sans = try? PKI.subjectAlternativeNames(certificatePEM: leaf.certificatePEM) else { return false }
                return Set(sans.dns) != Set(dns) || Set(sans.ips) != Set(ips.compactMap(PKI.canonicalIP))
            }()
            let force = forceToken != nil && forceToken != handled
            let step = CertificatePlanner.next(state, now: now, policy: policy, forceRenewal: force, leafMismatch: mismatch)
            if case .wait = step { break }
            state = try CertificatePlanner.apply(
                step, to: state, now: now, policy: policy,
                issueCA: { t in try PKI.issueCA(commonName: "vigil \(ns)/\(name) CA", now: t, duration: policy.caDuration, algorithm: algorithm) },
                issueLeaf: { ca, t in
                    try PKI.issueLeaf(ca: ca, commonName: Naming.collector(name), dnsNames: dns, ipAddresses: ips, usage: .server, now: t, duration: policy.leafDuration, algorithm: algorithm)
                }
            )
            if force { handled = forceToken }
            issued.append("\(step)")
        }
        guard let state, let leaf = state.leaf, let ca = state.cas.last else { throw Failure(description: "no certificate could be issued") }

        var caData: [String: JSONValue] = ["tls.crt": JSONValue.secretData(ca.certificatePEM), "tls.key": JSONValue.secretData(ca.privateKeyPEM)]
        if state.cas.count == 2 {
            caData["previous.crt"] = JSONValue.secretData(state.cas[0].certificatePEM)
            caData["previous.key"] = JSONValue.secretData(state.cas[0].privateKeyPEM)
        }
        let caBody: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": ["name": .string(Naming.ca(name)), "annotations": .object([Self.phaseAnnotation: .string(Self.encodePhase(state.phase))])],
            "data": .object(caData),
        ]
        var tlsAnnotations: [String: JSONValue] = [:]
        if let handled { tlsAnnotations[Self.handledAnnotation] = .string(handled) }
        let tlsBody: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": ["name": .string(Naming.ingestTLS(name)), "annotations": .object(tlsAnnotations)],
            "data": ["tls.crt": JSONValue.secretData(leaf.certificatePEM), "tls.key": JSONValue.secretData(leaf.privateKeyPEM), "ca.crt": JSONValue.secretData(state.bundleFile)],
        ]
        var objects = try [caBody, tlsBody].map { body in
            let stamped = stampObject(body, for: stack, component: "certificates")
            return try DesiredObject(resource: Secret.resource, namespace: ns, name: stamped["metadata"]?["name"]?.stringValue ?? "", body: stamped)
        }
        let next = CertificatePlanner.next(state, now: now, policy: policy)
        var requeue = 3600.0
        if case .wait(let until) = next { requeue = max(1, until.timeIntervalSince(now)) }
        // mTLS: client certificates from the CA that signs now, so that they move to a
        // new CA with the serving leaf, while the old CA is still in the bundle.
        var clientCertificates: [String: IssuedCertificate] = [:]
        if eff.clientAuth != "None", !eff.clients.isEmpty, let signer = state.signingCA {
            let c = try self.clientCertificates(stack, signer: signer, policy: policy, algorithm: algorithm, now: now)
            clientCertificates = c.certificates
            objects.append(c.object)
            issued += c.issued
            if let r = c.renewal { requeue = min(requeue, max(1, r.timeIntervalSince(now))) }
        }
        let renewal = Date(timeIntervalSince1970: RenewalPlan.renewalTime(
            notBefore: leaf.notBefore.timeIntervalSince1970, notAfter: leaf.notAfter.timeIntervalSince1970, renewBefore: policy.leafRenewBefore))
        let phaseName = Self.encodePhase(state.phase).split(separator: "@").first.map(String.init) ?? "Stable"
        return Outcome(
            objects: objects,
            status: CertificateStatus(notAfter: leaf.notAfter.formatted(.iso8601), renewalTime: renewal.formatted(.iso8601), serial: leaf.serial, caPhase: phaseName),
            requeueAfter: requeue,
            event: issued.isEmpty ? nil : "certificates: " + issued.joined(separator: ", "),
            bundle: state.bundleFile,
            clientCertificates: clientCertificates
        )
    }
}
