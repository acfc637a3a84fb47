import KubeModel

/// The Secrets of a stack's own CA: `<stack>-ca` (CA key and certificate, never mounted
/// into the collector), `<stack>-ingest-tls` (the serving leaf and the bundle) and, with
/// mTLS, `<stack>-client-certs` (each client's certificate, the source of the client
/// Secrets).
enum CertificateSecrets {
    static let component = "certificates"

    static func drafts(_ ctx: StackContext, _ m: CertificateMaterial) -> [Draft] {
        var caData = ["tls.crt": m.currentCA.certificate, "tls.key": m.currentCA.privateKey]
        if let previous = m.previousCA {
            caData["previous.crt"] = previous.certificate
            caData["previous.key"] = previous.privateKey
        }
        let ca = SecretBody.make(name: ctx.names.ca, annotations: [Annotations.caPhase: m.caPhase], data: caData)
        var tlsAnnotations: [String: String] = [:]
        if let handled = m.handledRotationRequest { tlsAnnotations[Annotations.certificateRotatedFor] = handled }
        let tls = SecretBody.make(
            name: ctx.names.ingestTLS, type: "kubernetes.io/tls", annotations: tlsAnnotations,
            data: ["tls.crt": m.leaf.certificate, "tls.key": m.leaf.privateKey, "ca.crt": m.bundle]
        )
        var drafts = [Draft(Secret.resource, component: component, body: ca), Draft(Secret.resource, component: component, body: tls)]
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
