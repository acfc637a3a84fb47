import KubeModel

/// A Secret in the stack's namespace that the spec names, and the field that names it.
public struct SecretReference: Sendable, Hashable {
    /// The spec field, for messages: `spec.exporters.loki.credentialsSecret`.
    public var field: String
    public var secret: String
    /// The keys the collector reads.
    public var keys: [String]
    /// Whether the collector reads it only at start (environment variables, exporter CA
    /// files), so that a change must roll the pods. The ingest certificate is reloaded.
    public var rollsCollector: Bool
    /// An Alertmanager receiver's secret: its value goes into the Alertmanager Secret only.
    public var alertReceiver: AlertReceiverKind? = nil
}

/// Which receiver secret a reference holds.
public enum AlertReceiverKind: String, Sendable, Hashable {
    case slackWebhookURL, pagerDutyRoutingKey, smtpPassword
}

/// The user's Secrets a stack depends on: Vigil watches them, refuses to roll onto a
/// missing one, and rolls the collector when one it reads at start changes.
public enum StackReferences {
    public static func secrets(_ ctx: StackContext) -> [SecretReference] {
        var refs: [SecretReference] = []
        let eff = ctx.spec
        if eff.tlsMode == .secret, let name = ctx.raw.ingest?.tls?.secretName {
            refs.append(SecretReference(field: "spec.ingest.tls.secretName", secret: name, keys: ["tls.crt", "tls.key"], rollsCollector: false))
        }
        func credentials(_ c: CredentialsRef?, _ field: String) {
            guard let c else { return }
            refs.append(SecretReference(field: field, secret: c.name, keys: [c.usernameKey ?? "username", c.passwordKey ?? "password"], rollsCollector: true))
        }
        func key(_ k: SecretKeyRef?, _ field: String) {
            guard let k else { return }
            refs.append(SecretReference(field: field, secret: k.name, keys: [k.key], rollsCollector: true))
        }
        let ex = ctx.raw.exporters
        credentials(ex?.loki?.credentialsSecret, "spec.exporters.loki.credentialsSecret")
        key(ex?.loki?.caSecret, "spec.exporters.loki.caSecret")
        key(ex?.tempo?.bearerTokenSecret, "spec.exporters.tempo.bearerTokenSecret")
        key(ex?.tempo?.caSecret, "spec.exporters.tempo.caSecret")
        credentials(ex?.remoteWrite?.credentialsSecret, "spec.exporters.remoteWrite.credentialsSecret")
        key(ex?.remoteWrite?.caSecret, "spec.exporters.remoteWrite.caSecret")
        let receivers = ctx.raw.alerting?.receivers
        func receiver(_ k: SecretKeyRef?, _ field: String, _ kind: AlertReceiverKind) {
            guard let k else { return }
            refs.append(SecretReference(field: field, secret: k.name, keys: [k.key], rollsCollector: false, alertReceiver: kind))
        }
        receiver(receivers?.slack?.webhookURLSecret, "spec.alerting.receivers.slack.webhookURLSecret", .slackWebhookURL)
        receiver(receivers?.pagerDuty?.routingKeySecret, "spec.alerting.receivers.pagerDuty.routingKeySecret", .pagerDutyRoutingKey)
        receiver(receivers?.email?.passwordSecret, "spec.alerting.receivers.email.passwordSecret", .smtpPassword)
        return refs
    }

    /// The names of every Secret the stack references.
    public static func secretNames(_ ctx: StackContext) -> Set<String> { Set(secrets(ctx).map(\.secret)) }

    /// The same, for a stack not yet resolved (the Secret watch asks it of every stack).
    public static func secretNames(_ stack: ObservabilityStack) -> Set<String> { secretNames(StackContext(stack)) }
}
