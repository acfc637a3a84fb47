import KubeModel

/// The Secrets of a stack's own CA: `<stack>-ca` (CA key and certificate, never mounted
/// into the collector), `<stack>-ingest-tls` (the serving leaf and the bundle) and, with
/// mTLS, `<stack>-client-certs` (each client's certificate, the source of the client
/// Secrets).
enum CertificateSecrets {
    static let component = "certificates"

    static func drafts(_ ctx: StackContext, _ m: CertificateMaterial) -> [Draft] {
        var caData: [String: JSONValue] = ["tls.crt": .secretData(m.currentCA.certificate), "tls.key": .secretData(m.currentCA.privateKey)]
        if let previous = m.previousCA {
            caData["previous.crt"] = .secretData(previous.certificate)
            caData["previous.key"] = .secretData(previous.privateKey)
        }
        let ca: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": ["name": .string(ctx.names.ca), "annotations": .object([Annotations.caPhase: .string(m.caPhase)])],
            "data": .object(caData),
        ]
        var tlsAnnotations: [String: JSONValue] = [:]
        if let handled = m.handledRotationRequest { tlsAnnotations[Annotations.certificateRotatedFor] = .string(handled) }
        let tls: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/tls",
            "metadata": ["name": .string(ctx.names.ingestTLS), "annotations": .object(tlsAnnotations)],
            "data": ["tls.crt": .secretData(m.leaf.certificate), "tls.key": .secretData(m.leaf.privateKey), "ca.crt": .secretData(m.bundle)],
        ]
        var drafts = [Draft(Secret.resource, component: component, body: ca), Draft(Secret.resource, component: component, body: tls)]
        if let clients = m.clientCertificates {
            var data: [String: JSONValue] = [:]
            for (client, pair) in clients.byClient {
                data["\(client).crt"] = .secretData(pair.certificate)
                data["\(client).key"] = .secretData(pair.privateKey)
                data["\(client).issuer"] = .secretData(clients.issuerSerial)
            }
            let body: JSONValue = [
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": ["name": .string(ctx.names.clientCertificates)], "data": .object(data),
            ]
            drafts.append(Draft(Secret.resource, component: component, body: body))
        }
        return drafts
    }
}
