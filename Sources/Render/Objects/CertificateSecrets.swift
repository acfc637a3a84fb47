import KubeModel

/// The Secrets of a stack's own CA: `<stack>-ca` (CA key and certificate, never mounted
/// into the collector), `<stack>-ingest-tls` (the serving leaf and the bundle; SelfSigned
/// mode), with a gateway `<stack>-gateway-tls` and `<stack>-agent-tls` (the two ends of
/// the agent-to-gateway mTLS), and with mTLS `<stack>-client-certs` (each client's
/// certificate, the source of the client Secrets).
enum CertificateSecrets {
    static let component = "certificates"

    static func drafts(_ ctx: StackContext, _ m: CertificateMaterial) -> [Draft] {
        var caData = ["tls.crt": m.currentCA.certificate, "tls.key": m.currentCA.privateKey]
        if let previous = m.previousCA {
            caData["previous.crt"] = previous.certificate
            caData["previous.key"] = previous.privateKey
        }
        let ca = SecretBody.make(name: ctx.names.ca, annotations: [Annotations.caPhase: m.caPhase], data: caData)
        var handled: [String: String] = [:]
        if let h = m.handledRotationRequest { handled[Annotations.certificateRotatedFor] = h }
        var drafts = [Draft(Secret.resource, component: component, body: ca)]
        if ctx.spec.issuesCertificates {
            let tls = SecretBody.make(
                name: ctx.names.ingestTLS, type: "kubernetes.io/tls", annotations: handled,
                data: ["tls.crt": m.leaf.certificate, "tls.key": m.leaf.privateKey, "ca.crt": m.bundle]
            )
            drafts.append(Draft(Secret.resource, component: component, body: tls))
        }
        if let g = m.gateway {
            // Without Vigil's ingest certificate, the gateway's is the one the CA planner
            // renews, and it records the forced rotations.
            var annotations = [Annotations.issuerSerial: g.issuerSerial]
            if !ctx.spec.issuesCertificates { annotations.merge(handled) { a, _ in a } }
            for (name, pair, notes) in [(ctx.names.gatewayTLS, g.server, annotations), (ctx.names.agentTLS, g.agent, [Annotations.issuerSerial: g.issuerSerial])] {
                let body = SecretBody.make(
                    name: name, type: "kubernetes.io/tls", annotations: notes, data: ["tls.crt": pair.certificate, "tls.key": pair.privateKey, "ca.crt": m.bundle])
                drafts.append(Draft(Secret.resource, component: component, body: body))
            }
        }
        if let clients = m.clientCertificates {
            var data: [String: String] = [:]
            for (client, pair) in clients.byClient {
                data["\(client).crt"] = pair.certificate
                data["\(client).key"] = pair.privateKey
                data["\(client).issuer"] = clients.issuerSerial
            }
            drafts.append(Draft(Secret.resource, component: component, body: SecretBody.make(name: ctx.names.clientCertificates, data: data)))
        }
        return drafts
    }
}
