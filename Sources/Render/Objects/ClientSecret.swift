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

    /// `OTEL_EXPORTER_OTLP_HEADERS` for a credential: `Authorization=Basic%20<base64>`, the
    /// value percent-encoded as the OTLP exporter specification asks (the W3C Baggage
    /// form every SDK must accept; a raw space or `+` is read differently by some).
    public static func headers(user: String, password: String) -> String {
        "Authorization=" + percentEncoded(basicHeader(user: user, password: password))
    }

    /// Every byte but RFC 3986's unreserved characters as `%XX`.
    public static func percentEncoded(_ s: String) -> String {
        let hex = Array("0123456789ABCDEF")
        var out = ""
        for b in s.utf8 {
            let c = Character(UnicodeScalar(b))
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x2E || b == 0x5F || b == 0x7E {
                out.append(c)
            } else {
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 0xF)])
            }
        }
        return out
    }

    /// The user and password of an `OTEL_EXPORTER_OTLP_HEADERS` value (its Authorization
    /// entry, percent-decoded), or nil.
    public static func credential(fromHeaders value: String) -> (user: String, password: String)? {
        for pair in value.split(separator: ",") {
            let kv = pair.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, kv[0].trimmingCharacters(in: .whitespaces).lowercased() == "authorization",
                let decoded = kv[1].removingPercentEncoding?.trimmingCharacters(in: .whitespaces), decoded.hasPrefix("Basic "),
                let raw = Data(base64Encoded: String(decoded.dropFirst(6)))
            else { continue }
            let parts = String(decoding: raw, as: UTF8.self).split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2 { return (parts[0], parts[1]) }
        }
        return nil
    }

    /// The OTLP/HTTP endpoint's key (`https://<collector>:4318`; the SDKs add `/v1/traces`).
    public static let httpEndpointKey = "VIGIL_OTLP_HTTP_ENDPOINT"

    static func draft(_ ctx: StackContext, _ c: ClientCredential, certificates: CertificateMaterial?) -> Draft {
        let tls = ctx.spec.tlsEnabled
        // Vigil's CA is the clients' only when Vigil issues the ingest certificate (with a
        // gateway it also exists for the internal hop, which clients never see).
        let certificates = ctx.spec.issuesCertificates ? certificates : nil
        var data = [
            "OTEL_EXPORTER_OTLP_ENDPOINT": ctx.names.otlpEndpoint(tls: tls, port: CollectorPorts.otlpGRPC),
            "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
            "OTEL_EXPORTER_OTLP_HEADERS": headers(user: c.username, password: c.password),
            // OTLP/HTTP, for an app that sets OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf and
            // takes its OTEL_EXPORTER_OTLP_ENDPOINT from this key (no SDK reads it as it is).
            httpEndpointKey: ctx.names.otlpEndpoint(tls: tls, port: CollectorPorts.otlpHTTP),
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
        // The user's extra metadata first: Vigil's own keys (refused by validation) always win.
        let auth = ctx.raw.ingest?.basicAuth
        var annotations = auth?.clientSecretAnnotations ?? [:]
        annotations[Annotations.credentialGeneration] = String(c.generation)
        var body = SecretBody.make(name: ctx.names.otlpClient, annotations: annotations, data: data)
        if let labels = auth?.clientSecretLabels, !labels.isEmpty {
            body["metadata"]?["labels"] = .object(labels.jsonObject)
        }
        return Draft(Secret.resource, component: component, body: body, placement: .clientNamespace(c.namespace))
    }
}

