import Foundation
import KubeModel
import Render
import Rotation

/// BasicAuth credentials of one stack, first generation: a password per client (kept in
/// the stack's `<stack>-credentials` Secret) and the htpasswd file the collector mounts.
/// A password is hashed once, when it is made; a converged stack hashes nothing.
public struct CredentialManager: Sendable {
    static let generationAnnotation = "observability.vigil.dev/credential-generation"
    static let rotatedAtAnnotation = "observability.vigil.dev/rotated-at"

    public struct Outcome: Sendable {
        public var objects: [DesiredObject]
        /// Each client's password, to publish in its Secret (never logged).
        public var passwords: [String: String]
        public var generation: Int
        public var status: CredentialsStatus
        /// sha256 of the htpasswd file: part of the pod-template hash, so the collector
        /// (which reads the file once, at start) rolls when it changes.
        public var materialHash: String
        public var event: String?
    }

    let secrets: Store<Unstructured>

    public init(secrets: Store<Unstructured>) { self.secrets = secrets }

    static func decode(_ secret: Unstructured?, _ key: String) -> String? {
        guard let b64 = secret?.object["data"]?[key]?.stringValue, let d = Data(base64Encoded: b64) else { return nil }
        return String(data: d, encoding: .utf8)
    }

    /// The username of a client in a generation.
    public static func username(_ client: String, generation: Int) -> String { "\(client)-g\(generation)" }

    public static func credentialsSecretName(_ stack: String) -> String { Naming.name(stack, "credentials") }

    public func reconcile(_ stack: ObservabilityStack, now: Date) throws -> Outcome {
        let eff = EffectiveSpec(stack.spec)
        let ns = stack.metadata.namespace ?? ""
        let name = stack.metadata.name ?? ""
        let credsSecret = secrets.get("\(ns)/\(Self.credentialsSecretName(name))")
        let generation = Int(credsSecret?.metadata.annotations?[Self.generationAnnotation] ?? "") ?? 1
        let rotatedAt = credsSecret?.metadata.annotations?[Self.rotatedAtAnnotation] ?? now.formatted(.iso8601)

        // The credentials Secret is the source of truth: each client's password and its
        // hash. The htpasswd file is derived from it, so a hand edit of the file is undone,
        // and a password is hashed only when it is made.
        var passwords: [String: String] = [:]
        var hashes: [String: String] = [:]
        var entries: [(user: String, hash: String)] = []
        var made: [String] = []
        for client in eff.clients.map(\.name).sorted() {
            let user = Self.username(client, generation: generation)
            if let password = Self.decode(credsSecret, client), let hash = Self.decode(credsSecret, "\(client).bcrypt") {
                passwords[client] = password
                hashes[client] = hash
                entries.append((user, hash))
                continue
            }
            let password = Htpasswd.password()
            let hash = try Htpasswd.bcrypt(password, cost: eff.bcryptCost)
            passwords[client] = password
            hashes[client] = hash
            entries.append((user, hash))
            made.append(client)
        }
        let file = Htpasswd.file(entries)

        func b64(_ s: String) -> JSONValue { .string(Data(s.utf8).base64EncodedString()) }
        let credsBody: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": [
                "name": .string(Self.credentialsSecretName(name)),
                "annotations": .object([Self.generationAnnotation: .string(String(generation)), Self.rotatedAtAnnotation: .string(rotatedAt)]),
            ],
            "data": .object(
                passwords.mapValues(b64).merging(Dictionary(uniqueKeysWithValues: hashes.map { ("\($0.key).bcrypt", b64($0.value)) })) { a, _ in a }
            ),
        ]
        let htBody: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": ["name": .string(Naming.htpasswd(name)), "annotations": .object([Self.generationAnnotation: .string(String(generation))])],
            "data": ["htpasswd": b64(file)],
        ]
        let objects = try [credsBody, htBody].map { body in
            let stamped = stampObject(body, for: stack, component: "credentials")
            return try DesiredObject(resource: Secret.resource, namespace: ns, name: stamped["metadata"]?["name"]?.stringValue ?? "", body: stamped)
        }
        let interval = (try? DurationParser.seconds(eff.rotationInterval)) ?? 30 * 86400
        let rotated = (try? Date(rotatedAt, strategy: .iso8601)) ?? now
        return Outcome(
            objects: objects, passwords: passwords, generation: generation,
            status: CredentialsStatus(generation: generation, rotatedAt: rotatedAt, nextRotation: rotated.addingTimeInterval(interval).formatted(.iso8601)),
            materialHash: sha256Hex(Array(file.utf8)),
            event: made.isEmpty ? nil : "credentials made for \(made.joined(separator: ", "))"
        )
    }
}

/// The Secret `<stack>-otlp-client` in each client's namespace, ready for `envFrom`: no
/// owner reference can cross namespaces, so labels name the stack and a finalizer on the
/// stack removes them.
public enum ClientSecrets {
    public static let stackNamespaceLabel = "observability.vigil.dev/stack-namespace"
    public static let finalizer = "observability.vigil.dev/client-secrets"
    /// Where a pod mounting the Secret finds the CA bundle.
    public static let certificatePath = "/etc/vigil/otlp/ca.crt"

    public static func objects(_ stack: ObservabilityStack, passwords: [String: String], generation: Int, bundle: String?) throws -> [DesiredObject] {
        let eff = EffectiveSpec(stack.spec)
        let name = stack.metadata.name ?? ""
        let ns = stack.metadata.namespace ?? ""
        let scheme = eff.tlsEnabled ? "https" : "http"
        var out: [DesiredObject] = []
        for client in eff.clients {
            guard let password = passwords[client.name] else { continue }
            func b64(_ s: String) -> JSONValue { .string(Data(s.utf8).base64EncodedString()) }
            var data: [String: JSONValue] = [
                "OTEL_EXPORTER_OTLP_ENDPOINT": b64("\(scheme)://\(Naming.collector(name)).\(ns).svc:\(CollectorPorts.otlpGRPC)"),
                "OTEL_EXPORTER_OTLP_PROTOCOL": b64("grpc"),
                "OTEL_EXPORTER_OTLP_HEADERS": b64("Authorization=" + Htpasswd.basicHeader(user: CredentialManager.username(client.name, generation: generation), password: password)),
            ]
            if let bundle, eff.tlsEnabled {
                data["ca.crt"] = b64(bundle)
                data["OTEL_EXPORTER_OTLP_CERTIFICATE"] = b64(certificatePath)
            }
            var labels: [String: JSONValue] = [:]
            for (k, v) in Labels.forStack(stack, component: "otlp-client") { labels[k] = .string(v) }
            labels[stackNamespaceLabel] = .string(ns)
            let body: JSONValue = [
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": ["name": .string(Naming.otlpClient(name)), "namespace": .string(client.namespace), "labels": .object(labels)],
                "data": .object(data),
            ]
            out.append(try DesiredObject(resource: Secret.resource, namespace: client.namespace, name: Naming.otlpClient(name), body: body))
        }
        return out
    }
}
