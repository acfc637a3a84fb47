import Foundation
import KubeModel
import Render
import Rotation

/// The first sub-reconciler: whether the stack may be applied at all. The spec must
/// resolve, the collector must accept the rendered config, and the user's Secrets the spec
/// names must exist with their keys, all before anything rolls. Each Secret is read once,
/// however many fields name it.
public struct Gate: Sendable {
    /// A stack that passed, with what the gate read on the way.
    public struct Admitted: Sendable {
        public var ctx: StackContext
        /// The user's serving certificate (`ingest.tls.mode: Secret`).
        public var userCertificate: CertificateStatus?
        /// `secret:key=value,…` of each Secret the collector reads at start: hashed into
        /// the pod template so that a change rolls the pods (never kept, never logged).
        public var referenced: [String]
        /// The Alertmanager receivers' secrets (never logged, never in status or events).
        public var alertSecrets: AlertReceiverSecrets

        /// Status and conditions of a user-provided certificate.
        var contribution: Contribution {
            var c = Contribution()
            guard let userCertificate else { return c }
            c.requeueAfter = 300
            c.certificate = userCertificate
            c.conditions = [
                StackCondition(
                    .certificateReady, true, reason: "SecretValid",
                    message: "user certificate \(userCertificate.serial ?? "") valid until \(userCertificate.notAfter ?? "")"
                )
            ]
            return c
        }
    }

    let writer: any ClusterWriter
    /// What the operator lets stacks choose (images, tolerations, node selectors).
    let policy: OperatorPolicy

    public init(writer: any ClusterWriter, policy: OperatorPolicy = .standard) {
        self.writer = writer
        self.policy = policy
    }

    /// A stack that did not pass: why, and the stack as far as it resolved.
    public struct Rejected: Error, Sendable {
        public var refusal: Refusal
        public var ctx: StackContext
        /// Whether the certificates' own inputs are valid (the refusal is about something
        /// else): their renewal and rollover then go on, so a refused stack never lets its
        /// serving certificate expire.
        public var certificatesValid: Bool = true
        /// The same for the BasicAuth credentials: their rotation, the htpasswd file the
        /// collector mounts (rolled into the running pods) and the client Secrets go on.
        public var credentialsValid: Bool = true
    }

    public func admit(_ stack: ObservabilityStack, now: Date) async throws -> Result<Admitted, Rejected> {
        let ctx: StackContext
        switch StackValidator.resolve(stack, policy: policy) {
        case .failure(let invalid):
            let refusal = Refusal(reason: "InvalidSpec", message: invalid.description, ready: "the spec is invalid; running collectors are left untouched")
            let certificateFields = ["spec.ingest.tls", "spec.collector.gateway", "spec.exporters.tempo", "metadata"]
            let valid = !invalid.errors.contains { e in certificateFields.contains { e.field.hasPrefix($0) } }
            // The client Secrets name the endpoint and carry the CA: all of ingest counts.
            let credentialFields = ["spec.ingest", "metadata"]
            let credentialsValid = valid && !invalid.errors.contains { e in credentialFields.contains { e.field.hasPrefix($0) } }
            return .failure(
                Rejected(refusal: refusal, ctx: StackContext(stack, spec: invalid.resolved), certificatesValid: valid, credentialsValid: credentialsValid))
        case .success(let resolved): ctx = resolved
        }
        // What the collector would refuse at start never reaches the running collectors.
        let configProblems = ConfigCheck.check(ctx)
        if !configProblems.isEmpty {
            let refusal = Refusal(
                reason: "ConfigCheckFailed", message: configProblems.joined(separator: "; "),
                ready: "the rendered collector config would be rejected; running collectors are left untouched"
            )
            return .failure(Rejected(refusal: refusal, ctx: ctx))
        }
        var admitted = Admitted(ctx: ctx, userCertificate: nil, referenced: [], alertSecrets: AlertReceiverSecrets())
        if ctx.spec.tlsMode == .secret {
            switch try await userCertificate(ctx, now: now) {
            case .failure(let refusal): return .failure(Rejected(refusal: refusal, ctx: ctx))
            case .success(let status): admitted.userCertificate = status
            }
        }
        if let refusal = try await readReferences(ctx, into: &admitted) { return .failure(Rejected(refusal: refusal, ctx: ctx)) }
        return .success(admitted)
    }

    /// A user-provided certificate must be usable before anything rolls onto it.
    func userCertificate(_ ctx: StackContext, now: Date) async throws -> Result<CertificateStatus?, Refusal> {
        let name = ctx.raw.ingest?.tls?.secretName ?? ""
        let secret = try await writer.readSecret(namespace: ctx.namespace, name: name)
        let crt = secret?.decoded("tls.crt")
        let key = secret?.decoded("tls.key")
        let problem = secret == nil
            ? "Secret \(name) does not exist"
            : PKI.problemWithKeyPair(certificatePEM: crt, privateKeyPEM: key, now: now).map { "Secret \(name): \($0)" }
        if let problem {
            // The Secret may be created or fixed at any moment: look again soon.
            return .failure(
                Refusal(
                    reason: "CertificateNotReady", message: problem, ready: "the serving certificate is unusable; running collectors are left untouched",
                    condition: .certificateReady, conditionReason: secret == nil ? "SecretNotFound" : "InvalidSecret", requeueAfter: 30
                )
            )
        }
        guard let crt, let key, let leaf = try? PKI.load(certificatePEM: crt, privateKeyPEM: key) else { return .success(nil) }
        return .success(CertificateStatus(notAfter: leaf.notAfter.formatted(.iso8601), serial: leaf.serial))
    }

    /// Reads every Secret the collector or Alertmanager needs; the first missing one or key
    /// refuses the stack.
    func readReferences(_ ctx: StackContext, into admitted: inout Admitted) async throws -> Refusal? {
        var read: [String: Secret?] = [:]
        for ref in StackReferences.secrets(ctx) where ref.rollsCollector || ref.alertReceiver != nil {
            let secret: Secret?
            if let cached = read[ref.secret] {
                secret = cached
            } else {
                secret = try await writer.readSecret(namespace: ctx.namespace, name: ref.secret)
                read[ref.secret] = .some(secret)
            }
            // A receiver's value must also decode; the collector's are passed on as they are.
            let missingKeys = ref.keys.filter { secret?.data?[$0] == nil || (ref.alertReceiver != nil && secret?.decoded($0) == nil) }
            if secret == nil || !missingKeys.isEmpty {
                let message = secret == nil
                    ? "Secret \(ref.secret) named by \(ref.field) does not exist in namespace \(ctx.namespace)"
                    : "Secret \(ref.secret) named by \(ref.field) has no key \(missingKeys.joined(separator: ", "))"
                return Refusal(
                    reason: secret == nil ? "SecretNotFound" : "SecretKeyNotFound", message: message,
                    ready: "a referenced Secret is missing; running collectors are left untouched"
                )
            }
            if ref.rollsCollector {
                admitted.referenced.append(ref.secret + ":" + ref.keys.map { "\($0)=\(secret?.data?[$0] ?? "")" }.joined(separator: ","))
            }
            if let kind = ref.alertReceiver, let value = secret?.decoded(ref.keys[0]) {
                let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
                switch kind {
                case .slackWebhookURL: admitted.alertSecrets.slackWebhookURL = trimmed
                case .pagerDutyRoutingKey: admitted.alertSecrets.pagerDutyRoutingKey = trimmed
                case .smtpPassword: admitted.alertSecrets.smtpPassword = value
                }
            }
        }
        return nil
    }
}

extension Secret {
    /// The decoded value of one data key, as UTF-8 text.
    func decoded(_ key: String) -> String? {
        data?[key].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }
    }
}
