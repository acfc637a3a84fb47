import Foundation
import KubeModel

/// The Secret `<stack>-otlp-client` in each client's namespace, ready for `envFrom`: the
/// endpoint, protocol, BasicAuth header and, with TLS, the CA bundle and (mTLS) the
/// client's certificate, with the paths a pod mounting the Secret finds them at.
public enum ClientSecret {
    public static let component = "otlp-client"
    /// Where a pod mounting the Secret finds the CA bundle.
    public static let certificatePath = "/etc/vigil/otlp/ca.crt"
    /// Where it finds its client certificate and key (mTLS).
    public static let clientCertificatePath = "/etc/vigil/otlp/tls.crt"
    public static let clientKeyPath = "/etc/vigil/otlp/tls.key"

    /// `Basic <base64(user:password)>`, the Authorization header value.
    public static func basicHeader(user: String, password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    static func draft(_ ctx: StackContext, _ c: ClientCredential, certificates: CertificateMaterial?) -> Draft {
        let tls = ctx.spec.tlsEnabled
        // Vigil's CA is the clients' only when Vigil issues the ingest certificate (with a
        // gateway it also exists for the internal hop, which clients never see).
        let certificates = ctx.spec.issuesCertificates ? certificates : nil
        var data = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": ctx.names.otlpEndpoint(tls: tls, port: CollectorPorts.otlpGRPC),
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_HEADERS": "Authorization=" + basicHeader(user: c.username, password: c.password),
        ]
        if let bundle = certificates?.bundle, tls {
            data["ca.crt"] = bundle
            data["OTEL_EXPORTER_OTLP_CERTIFICATE"] = certificatePath
        }
        if let pair = certificates?.clientCertificates?.byClient[c.client], tls {
            data["tls.crt"] = pair.certificate
            data["tls.key"] = pair.privateKey
            data["OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"] = clientCertificatePath
            data["OTEL_EXPORTER_OTLP_CLIENT_KEY"] = clientKeyPath
        }
        let body = SecretBody.make(name: ctx.names.otlpClient, annotations: [Annotations.credentialGeneration: String(c.generation)], data: data)
        return Draft(Secret.resource, component: component, body: body, placement: .clientNamespace(c.namespace))
    }
}

