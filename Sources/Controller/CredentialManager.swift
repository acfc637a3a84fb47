import Foundation
import KubeModel
import Render
import Rotation

/// BasicAuth credentials of one stack and their rotation. The state lives on the
/// `<stack>-credentials` Secret (passwords, hashes, phase, generation, deadlines as
/// annotations), the htpasswd file the collector mounts is derived from it, and
/// `CredentialPlanner` decides each step. A password is hashed once, when it is made; a
/// converged stack hashes nothing.
public struct CredentialManager: Sendable {
    static let prefix = "observability.vigil.dev/"
    static let generationAnnotation = prefix + "credential-generation"
    static let phaseAnnotation = prefix + "credential-phase"
    static let sinceAnnotation = prefix + "phase-since"
    static let rotatedAtAnnotation = prefix + "rotated-at"
    static let publishedAnnotation = prefix + "published-clients"
    static let handledAnnotation = prefix + "rotation-request-handled"
    /// Set on a stack (any new value) to rotate its credentials now.
    public static let rotateAnnotation = "vigil.dev/rotate-credentials"
    /// Pod-template annotation: the hash of the htpasswd file the pods were made for.
    public static let htpasswdHashAnnotation = CollectorPod.htpasswdHashAnnotation

    public struct Outcome: Sendable {
        public var state: CredentialState
        /// The credentials Secret and the htpasswd Secret.
        public var objects: [DesiredObject]
        /// Clients whose Secret may be written now with `state.current(client)`: the
        /// credential is in the file of every collector pod that could be running.
        public var publishable: Set<String>
        public var status: CredentialsStatus
        /// sha256 of the htpasswd file: part of the pod-template hash, so the collector
        /// (which reads the file once, at start) rolls when it changes.
        public var materialHash: String
        /// Secret-free reasons and messages of the steps taken, for events.
        public var steps: [(reason: String, message: String)]
        /// The next deadline, in seconds from now.
        public var requeueAfter: Double?
    }

    let secrets: Store<Unstructured>

    public init(secrets: Store<Unstructured>) { self.secrets = secrets }


    public static func credentialsSecretName(_ stack: String) -> String { Naming.name(stack, "credentials") }

    static func passwordKey(_ client: String, _ generation: Int) -> String { "g\(generation).\(client)" }

    static func date(_ s: String?) -> Date? { s.flatMap { try? Date($0, strategy: .iso8601) } }

    /// The state recorded on the credentials Secret, or a fresh one.
    static func state(from secret: Unstructured?, now: Date) -> CredentialState {
        let a = secret?.metadata.annotations ?? [:]
        var s = CredentialState(
            generation: Int(a[generationAnnotation] ?? "") ?? 1,
            phase: CredentialPhase(rawValue: a[phaseAnnotation] ?? "") ?? .stable,
            since: date(a[sinceAnnotation]) ?? now,
            rotatedAt: date(a[rotatedAtAnnotation]) ?? now,
            published: Set((a[publishedAnnotation] ?? "").split(separator: ",").map(String.init)),
            handledRequest: a[handledAnnotation]
        )
        for key in (secret?.object["data"]?.objectValue ?? [:]).keys where key.hasPrefix("g") && !key.hasSuffix(".bcrypt") {
            let parts = key.dropFirst().split(separator: ".", maxSplits: 1)
            guard parts.count == 2, let g = Int(parts[0]) else { continue }
            let client = String(parts[1])
            guard let password = secret?.secretString(key), let hash = secret?.secretString(key + ".bcrypt") else { continue }
            s.credentials[g, default: [:]][client] = Credential(password: password, hash: hash)
        }
        return s
    }

    /// The credentials Secret recording `state`.
    static func credentialsBody(_ state: CredentialState, stackName: String) -> JSONValue {
        var data: [String: JSONValue] = [:]
        for (g, byClient) in state.credentials {
            for (c, cred) in byClient {
                data[passwordKey(c, g)] = JSONValue.secretData(cred.password)
                data[passwordKey(c, g) + ".bcrypt"] = JSONValue.secretData(cred.hash)
            }
        }
        var annotations: [String: JSONValue] = [
            generationAnnotation: .string(String(state.generation)),
            phaseAnnotation: .string(state.phase.rawValue),
            sinceAnnotation: .string(state.since.formatted(.iso8601)),
            rotatedAtAnnotation: .string(state.rotatedAt.formatted(.iso8601)),
            publishedAnnotation: .string(state.published.sorted().joined(separator: ",")),
        ]
        if let h = state.handledRequest { annotations[handledAnnotation] = .string(h) }
        return [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": ["name": .string(credentialsSecretName(stackName)), "annotations": .object(annotations)],
            "data": .object(data),
        ]
    }

    /// The credentials Secret for a state, stamped for the stack.
    public static func credentialsObject(_ state: CredentialState, for stack: ObservabilityStack) throws -> DesiredObject {
        let stamped = stampObject(credentialsBody(state, stackName: stack.metadata.name ?? ""), for: stack, component: "credentials")
        return try DesiredObject(resource: Secret.resource, namespace: stack.metadata.namespace, name: stamped["metadata"]?["name"]?.stringValue ?? "", body: stamped)
    }

    /// Whether every collector pod runs the htpasswd file with this hash: the live
    /// DaemonSet's template carries it, and its status (for that generation of the
    /// template) counts every scheduled pod updated and available.
    public static func rolledOut(_ ds: Unstructured?, htpasswdHash: String) -> Bool {
        guard let ds else { return false }
        let o = ds.object
        let template = o["spec"]?["template"]?["metadata"]?["annotations"]?[htpasswdHashAnnotation]?.stringValue
        guard template == htpasswdHash else { return false }
        let status = o["status"]
        guard let observed = status?["observedGeneration"]?.intValue, let generation = ds.metadata.generation, observed >= generation else { return false }
        let desired = status?["desiredNumberScheduled"]?.intValue ?? 0
        return (status?["updatedNumberScheduled"]?.intValue ?? 0) >= desired && (status?["numberAvailable"]?.intValue ?? 0) >= desired
            && (status?["numberUnavailable"]?.intValue ?? 0) == 0
    }

    /// Plans and takes the credential steps due now. `liveDaemonSet` is the agents'
    /// DaemonSet from the cache; `clientSecrets` maps each declared client whose namespace
    /// Vigil watches to its live Secret (nil when absent).
    public func reconcile(
        _ stack: ObservabilityStack, now: Date, liveDaemonSet: Unstructured?, clientSecrets: [String: Unstructured?]
    ) throws -> Outcome {
        let eff = EffectiveSpec(stack.spec)
        let ns = stack.metadata.namespace ?? ""
        let name = stack.metadata.name ?? ""
        let policy = CredentialPolicy(
            interval: (try? DurationParser.seconds(eff.rotationInterval)) ?? 30 * 86400,
            overlap: (try? DurationParser.seconds(eff.rotationOverlap)) ?? 86400
        )
        let request = stack.metadata.annotations?[Self.rotateAnnotation]
        let cost = eff.bcryptCost
        var state = Self.state(from: secrets.get("\(ns)/\(Self.credentialsSecretName(name))"), now: now)
        var rolledOut = Self.rolledOut(liveDaemonSet, htpasswdHash: sha256Hex(Array(state.file.utf8)))
        var steps: [(reason: String, message: String)] = []
        var wait: Date? = nil
        // A few steps can follow one another at once (a client removed, then added).
        for _ in 0..<6 {
            let holding = clientSecrets.allSatisfy { _, secret in
                secret.map { $0.metadata.annotations?[Self.generationAnnotation] == String(state.generation) } ?? true
            }
            let exposed = state.phase == .stable ? state.published.filter { c in clientSecrets[c].map { $0 == nil } ?? false }.sorted() : []
            let observation = CredentialObservation(
                clients: eff.clients.map(\.name), now: now, rolledOut: rolledOut, request: request, exposed: exposed, clientsHoldGeneration: holding
            )
            let step = CredentialPlanner.plan(state, observation, policy: policy)
            if case .wait(let until) = step {
                wait = until
                break
            }
            steps.append(CredentialPlanner.describe(step, state))
            let fileBefore = state.file
            state = try CredentialPlanner.apply(step, to: state, now: now, request: request) { _ in
                let password = Htpasswd.password()
                return Credential(password: password, hash: try Htpasswd.bcrypt(password, cost: cost))
            }
            if state.file != fileBefore { rolledOut = false }
        }
        // Safe to publish: the credential is in every running pod's file, or the client
        // already holds it (it was published when it was, and the file still has it).
        var publishable = Set<String>()
        for c in eff.clients.map(\.name) where state.current(c) != nil {
            if rolledOut || state.published.contains(c) { publishable.insert(c) }
        }
        let file = state.file
        let htBody: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": ["name": .string(Naming.htpasswd(name)), "annotations": .object([Self.generationAnnotation: .string(String(state.generation))])],
            "data": ["htpasswd": JSONValue.secretData(file)],
        ]
        let stamped = stampObject(htBody, for: stack, component: "credentials")
        let objects = [
            try Self.credentialsObject(state, for: stack),
            try DesiredObject(resource: Secret.resource, namespace: ns, name: Naming.htpasswd(name), body: stamped),
        ]
        var status = CredentialsStatus(
            generation: state.generation, rotatedAt: state.rotatedAt.formatted(.iso8601),
            nextRotation: state.rotatedAt.addingTimeInterval(policy.interval).formatted(.iso8601)
        )
        status.phase = state.phase.rawValue
        status.phaseSince = state.since.formatted(.iso8601)
        if state.phase == .overlap { status.previousRemovedAfter = state.since.addingTimeInterval(policy.overlap).formatted(.iso8601) }
        return Outcome(
            state: state, objects: objects, publishable: publishable, status: status, materialHash: sha256Hex(Array(file.utf8)),
            steps: steps, requeueAfter: wait.map { max(1, $0.timeIntervalSince(now)) }
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
    /// Where it finds its client certificate and key (mTLS).
    public static let clientCertificatePath = "/etc/vigil/otlp/tls.crt"
    public static let clientKeyPath = "/etc/vigil/otlp/tls.key"

    /// The client Secrets that may be written now: each publishable client's current
    /// credential, annotated with its generation.
    public static func objects(
        _ stack: ObservabilityStack, state: CredentialState, publishable: Set<String>, bundle: String?,
        clientCertificates: [String: IssuedCertificate] = [:]
    ) throws -> [DesiredObject] {
        let eff = EffectiveSpec(stack.spec)
        let name = stack.metadata.name ?? ""
        let ns = stack.metadata.namespace ?? ""
        let scheme = eff.tlsEnabled ? "https" : "http"
        var out: [DesiredObject] = []
        for client in eff.clients {
            guard publishable.contains(client.name), let password = state.current(client.name)?.password else { continue }
            let generation = state.generation
            var data: [String: JSONValue] = [
                "OTEL_EXPORTER_OTLP_ENDPOINT": JSONValue.secretData("\(scheme)://\(Naming.collector(name)).\(ns).svc:\(CollectorPorts.otlpGRPC)"),
                "OTEL_EXPORTER_OTLP_PROTOCOL": JSONValue.secretData("grpc"),
                "OTEL_EXPORTER_OTLP_HEADERS": JSONValue.secretData("Authorization=" + Htpasswd.basicHeader(user: CredentialState.username(client.name, generation: generation), password: password)),
            ]
            if let bundle, eff.tlsEnabled {
                data["ca.crt"] = JSONValue.secretData(bundle)
                data["OTEL_EXPORTER_OTLP_CERTIFICATE"] = JSONValue.secretData(certificatePath)
            }
            if let cert = clientCertificates[client.name], eff.tlsEnabled {
                data["tls.crt"] = JSONValue.secretData(cert.certificatePEM)
                data["tls.key"] = JSONValue.secretData(cert.privateKeyPEM)
                data["OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"] = JSONValue.secretData(clientCertificatePath)
                data["OTEL_EXPORTER_OTLP_CLIENT_KEY"] = JSONValue.secretData(clientKeyPath)
            }
            var labels: [String: JSONValue] = [:]
            for (k, v) in Labels.forStack(stack, component: "otlp-client") { labels[k] = .string(v) }
            labels[stackNamespaceLabel] = .string(ns)
            let body: JSONValue = [
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": [
                    "name": .string(Naming.otlpClient(name)), "namespace": .string(client.namespace), "labels": .object(labels),
                    "annotations": .object([CredentialManager.generationAnnotation: .string(String(generation))]),
                ],
                "data": .object(data),
            ]
            out.append(try DesiredObject(resource: Secret.resource, namespace: client.namespace, name: Naming.otlpClient(name), body: body))
        }
        return out
    }
}
