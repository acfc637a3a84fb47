import Crypto
import KubeModel

/// Every name Vigil gives an object, from one place: DNS-1123 labels of at most 63
/// characters. A name that would be longer is cut and suffixed with a short hash of the
/// whole name, so two long stack names never collide.
public enum Naming {
    public static let maxLength = 63

    public static func collector(_ stack: String) -> String { name(stack, "collector") }
    public static func gateway(_ stack: String) -> String { name(stack, "gateway") }
    public static func gatewayHeadless(_ stack: String) -> String { name(stack, "gateway-headless") }
    public static func collectorHeadless(_ stack: String) -> String { name(stack, "collector-headless") }
    public static func ca(_ stack: String) -> String { name(stack, "ca") }
    public static func ingestTLS(_ stack: String) -> String { name(stack, "ingest-tls") }
    public static func gatewayTLS(_ stack: String) -> String { name(stack, "gateway-tls") }
    public static func agentTLS(_ stack: String) -> String { name(stack, "agent-tls") }
    public static func htpasswd(_ stack: String) -> String { name(stack, "htpasswd") }
    /// A client Secret, in the client's namespace: `<stack namespace>.<stack>-otlp-client`.
    /// A namespace has no dot, so the first dot tells the two apart and no two stacks
    /// ever want the same name in one namespace.
    public static func otlpClient(_ stack: String, namespace: String) -> String { shorten("\(namespace).\(stack)-otlp-client") }
    public static func credentials(_ stack: String) -> String { name(stack, "credentials") }
    public static func clientCertificates(_ stack: String) -> String { name(stack, "client-certs") }
    public static func alertmanager(_ stack: String) -> String { name(stack, "alertmanager") }
    public static func prometheus(_ stack: String) -> String { name(stack, "prometheus") }

    /// `<stack>-<suffix>`, shortened with a hash when longer than 63 characters.
    public static func name(_ stack: String, _ suffix: String) -> String {
        let full = "\(stack)-\(suffix)"
        return shorten(full)
    }

    /// `value` itself when it fits in 63 characters, else a prefix and 8 hex digits of its sha256.
    public static func shorten(_ value: String) -> String {
        // No more bytes than the limit is no more characters (counting characters walks
        // grapheme breaks).
        guard value.utf8.count > maxLength, value.count > maxLength else { return value }
        let digest = sha256Hex(value.utf8)
        var prefix = String(value.prefix(maxLength - 9))
        while prefix.hasSuffix("-") || prefix.hasSuffix(".") { prefix.removeLast() }
        return "\(prefix)-\(digest.prefix(8))"
    }
}

/// Hex sha256 of bytes.
public func sha256Hex(_ bytes: some Sequence<UInt8>) -> String {
    var h = SHA256Text()
    if bytes.withContiguousStorageIfAvailable({ h.hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
        h.hasher.update(data: Array(bytes))
    }
    return h.hex
}

/// SHA-256 of text fed in parts, read as lowercase hex: hashes of concatenations without
/// building them, and a common prefix hashed once (the state is a value: a copy goes on
/// from where it was).
public struct SHA256Text {
    var hasher = SHA256()

    public init() {}

    public mutating func add(_ text: String) {
        text.withUTF8Bytes { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
    }

    public var hex: String {
        let digest = hasher.finalize()
        return String(unsafeUninitializedCapacity: 64) { out in
            let hex: StaticString = "0123456789abcdef"
            var i = 0
            for byte in digest {
                out[i] = hex.utf8Start[Int(byte >> 4)]
                out[i + 1] = hex.utf8Start[Int(byte & 0xF)]
                i += 2
            }
            return i
        }
    }
}

/// Every name one stack's objects carry, its Service's DNS name and its OTLP endpoints.
public struct StackNames: Sendable, Hashable {
    public let stack: String
    public let namespace: String

    public init(stack: String, namespace: String) {
        self.stack = stack
        self.namespace = namespace
    }

    public var collector: String { Naming.collector(stack) }
    public var collectorHeadless: String { Naming.collectorHeadless(stack) }
    public var gateway: String { Naming.gateway(stack) }
    public var gatewayHeadless: String { Naming.gatewayHeadless(stack) }
    public var ca: String { Naming.ca(stack) }
    public var ingestTLS: String { Naming.ingestTLS(stack) }
    /// The gateway's serving certificate and the bundle it checks agents against.
    public var gatewayTLS: String { Naming.gatewayTLS(stack) }
    /// The agents' client certificate for the gateway, and the bundle they check it against.
    public var agentTLS: String { Naming.agentTLS(stack) }
    /// The name the gateway's certificate carries, which agents verify (they dial pod IPs).
    public var gatewayHost: String { "\(gatewayHeadless).\(namespace).svc.cluster.local" }
    public var htpasswd: String { Naming.htpasswd(stack) }
    public var credentials: String { Naming.credentials(stack) }
    public var clientCertificates: String { Naming.clientCertificates(stack) }
    public var otlpClient: String { Naming.otlpClient(stack, namespace: namespace) }
    public var alertmanager: String { Naming.alertmanager(stack) }
    /// The value of `app.kubernetes.io/instance` on the stack's objects.
    public var instance: String { Naming.shorten(stack) }

    /// The agents' Service in cluster DNS.
    public var collectorHost: String { "\(collector).\(namespace).svc" }

    /// The OTLP endpoint clients use, with the scheme TLS decides.
    public func otlpEndpoint(tls: Bool, port: Int) -> String {
        "\(tls ? "https" : "http")://\(collectorHost):\(port)"
    }
}
