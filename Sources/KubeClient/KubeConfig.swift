import Foundation
import KubeModel
import Yams

/// How to reach and authenticate to an API server.
public struct KubeConfig: Sendable {
    public enum Credentials: Sendable {
        case none
        /// A fixed bearer token.
        case token(String)
        /// A token file, re-read on every request: bound service-account tokens expire and
        /// kubelet rewrites the file.
        case tokenFile(String)
        /// A client certificate and key, PEM.
        case clientCertificate(certificatePEM: [UInt8], keyPEM: [UInt8])
    }

    public var server: String
    public var credentials: Credentials
    /// PEM bundle of CAs to trust; nil means the system roots.
    public var caPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    /// The namespace of the current context (or the pod's own namespace in-cluster).
    public var namespace: String?

    public init(server: String, credentials: Credentials = .none, caPEM: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false, namespace: String? = nil) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.credentials = credentials
        self.caPEM = caPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.namespace = namespace
    }

    /// A configuration problem, naming what is missing or wrong (never a credential).
    public struct ConfigError: Error, Sendable, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// The usual search: an explicit path, else `$KUBECONFIG`, else in-cluster when the
    /// service-account environment is present, else `~/.kube/config`.
    public static func load(path: String? = nil, context: String? = nil, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> KubeConfig {
        if let path { return try fromFile(path, context: context) }
        if let env = environment["KUBECONFIG"], !env.isEmpty {
            let first = env.split(separator: ":").first.map(String.init) ?? env
            return try fromFile(first, context: context)
        }
        if environment["KUBERNETES_SERVICE_HOST"] != nil {
            return try inCluster(environment: environment)
        }
        let home = environment["HOME"] ?? NSHomeDirectory()
        return try fromFile("\(home)/.kube/config", context: context)
    }

    public static let serviceAccountDir = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// In-cluster: `KUBERNETES_SERVICE_HOST`/`PORT`, the service-account CA and token.
    public static func inCluster(environment: [String: String] = ProcessInfo.processInfo.environment, serviceAccountDir: String = serviceAccountDir) throws -> KubeConfig {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], let port = environment["KUBERNETES_SERVICE_PORT"] else {
            throw ConfigError("not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set")
        }
        let tokenPath = "\(serviceAccountDir)/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw ConfigError("service-account token not readable at \(tokenPath)")
        }
        let ca = FileManager.default.contents(atPath: "\(serviceAccountDir)/ca.crt").map { Array($0) }
        let ns = FileManager.default.contents(atPath: "\(serviceAccountDir)/namespace").flatMap { String(data: $0, encoding: .utf8) }?
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return KubeConfig(server: "https://\(hostPart):\(port)", credentials: .tokenFile(tokenPath), caPEM: ca, namespace: ns)
    }

    struct File: Decodable {
        struct NamedCluster: Decodable {
            var name: String
            var cluster: Cluster
        }
        struct Cluster: Decodable {
            var server: String
            var certificateAuthority: String?
            var certificateAuthorityData: String?
            var insecureSkipTLSVerify: Bool?
            enum CodingKeys: String, CodingKey {
                case server
                case certificateAuthority = "certificate-authority"
                case certificateAuthorityData = "certificate-authority-data"
                case insecureSkipTLSVerify = "insecure-skip-tls-verify"
            }
        }
        struct NamedUser: Decodable {
            var name: String
            var user: User?
        }
        struct User: Decodable {
            var token: String?
            var tokenFile: String?
            var clientCertificate: String?
            var clientCertificateData: String?
            var clientKey: String?
            var clientKeyData: String?
            enum CodingKeys: String, CodingKey {
                case token
                case tokenFile
                case clientCertificate = "client-certificate"
                case clientCertificateData = "client-certificate-data"
                case clientKey = "client-key"
                case clientKeyData = "client-key-data"
            }
        }
        struct NamedContext: Decodable {
            var name: String
            var context: Context
        }
        struct Context: Decodable {
            var cluster: String
            var user: String?
            var namespace: String?
        }
        var clusters: [NamedCluster]?
        var users: [NamedUser]?
        var contexts: [NamedContext]?
        var currentContext: String?
        enum CodingKeys: String, CodingKey {
            case clusters, users, contexts
            case currentContext = "current-context"
        }
    }

    /// Reads a kubeconfig file. Relative file paths inside it are relative to its folder.
    public static func fromFile(_ path: String, context: String? = nil) throws -> KubeConfig {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError("cannot read kubeconfig \(path)")
        }
        return try parse(text, baseDirectory: (path as NSString).deletingLastPathComponent, context: context)
    }

    public static func parse(_ text: String, baseDirectory: String = ".", context explicit: String? = nil) throws -> KubeConfig {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw ConfigError("kubeconfig is not valid: \(error)")
        }
        guard let contextName = explicit ?? file.currentContext, !contextName.isEmpty else {
            throw ConfigError("kubeconfig has no current-context and none was given")
        }
        guard let context = file.contexts?.first(where: { $0.name == contextName })?.context else {
            throw ConfigError("kubeconfig has no context \"\(contextName)\"")
        }
        guard let cluster = file.clusters?.first(where: { $0.name == context.cluster })?.cluster else {
            throw ConfigError("kubeconfig has no cluster \"\(context.cluster)\" (context \"\(contextName)\")")
        }
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : "\(baseDirectory)/\(p)" }
        func readFile(_ p: String, _ what: String) throws -> [UInt8] {
            guard let d = FileManager.default.contents(atPath: resolve(p)) else { throw ConfigError("cannot read \(what) file \(resolve(p))") }
            return Array(d)
        }
        func base64(_ s: String, _ what: String) throws -> [UInt8] {
            guard let d = Data(base64Encoded: s.filter { !$0.isWhitespace }) else { throw ConfigError("\(what) is not valid base64") }
            return Array(d)
        }
        var ca: [UInt8]? = nil
        if let d = cluster.certificateAuthorityData {
            ca = try base64(d, "certificate-authority-data")
        } else if let f = cluster.certificateAuthority {
            ca = try readFile(f, "certificate-authority")
        }
        var creds = Credentials.none
        if let userName = context.user, let user = file.users?.first(where: { $0.name == userName })?.user {
            if let t = user.token, !t.isEmpty {
                creds = .token(t)
            } else if let f = user.tokenFile {
                creds = .tokenFile(resolve(f))
            } else if user.clientCertificate != nil || user.clientCertificateData != nil {
                let cert = try user.clientCertificateData.map { try base64($0, "client-certificate-data") } ?? readFile(user.clientCertificate!, "client-certificate")
                guard user.clientKey != nil || user.clientKeyData != nil else { throw ConfigError("user \"\(userName)\" has a client certificate but no key") }
                let key = try user.clientKeyData.map { try base64($0, "client-key-data") } ?? readFile(user.clientKey!, "client-key")
                creds = .clientCertificate(certificatePEM: cert, keyPEM: key)
            }
        } else if let userName = context.user, !userName.isEmpty {
            throw ConfigError("kubeconfig has no user \"\(userName)\" (context \"\(contextName)\")")
        }
        return KubeConfig(
            server: cluster.server,
            credentials: creds,
            caPEM: ca,
            insecureSkipTLSVerify: cluster.insecureSkipTLSVerify ?? false,
            namespace: context.namespace
        )
    }
}
