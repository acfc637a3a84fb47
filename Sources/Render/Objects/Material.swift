import KubeModel

/// A certificate and its private key, in PEM.
public struct KeyPairPEM: Sendable, Hashable {
    public var certificate: String
    public var privateKey: String
    public init(certificate: String, privateKey: String) {
        self.certificate = certificate
        self.privateKey = privateKey
    }
}

/// What the certificate sub-reconciler decided, as plain values: Render turns it into the
/// `<stack>-ca`, `<stack>-ingest-tls` and `<stack>-client-certs` Secrets.
public struct CertificateMaterial: Sendable, Hashable {
    /// The newest CA (`tls.crt`, `tls.key` of `<stack>-ca`).
    public var currentCA: KeyPairPEM
    /// The CA being rolled away from, while both are in the bundle.
    public var previousCA: KeyPairPEM?
    /// The CA phase as recorded on `<stack>-ca` (`Stable`, `NewCAInBundle@<unix>`, …).
    public var caPhase: String
    /// The serving leaf.
    public var leaf: KeyPairPEM
    /// The trust bundle clients need (`ca.crt`): every CA a served leaf may chain to.
    public var bundle: String
    /// The forced-rotation request last honoured (the stack annotation's value).
    public var handledRotationRequest: String?
    /// With mTLS: each declared client's certificate, and the serial of the CA that signed
    /// them. Nil when no client certificates are issued.
    public var clientCertificates: ClientCertificates?
    /// With a gateway: its serving certificate and the agents' client certificate, from
    /// the CA that signs now. Nil without a gateway.
    public var gateway: GatewayCertificates?

    public struct GatewayCertificates: Sendable, Hashable {
        public var server: KeyPairPEM
        public var agent: KeyPairPEM
        public var issuerSerial: String
        public init(server: KeyPairPEM, agent: KeyPairPEM, issuerSerial: String) {
            self.server = server
            self.agent = agent
            self.issuerSerial = issuerSerial
        }
    }

    public struct ClientCertificates: Sendable, Hashable {
        public var byClient: [String: KeyPairPEM]
        public var issuerSerial: String
        public init(byClient: [String: KeyPairPEM], issuerSerial: String) {
            self.byClient = byClient
            self.issuerSerial = issuerSerial
        }
    }

    public init(
        currentCA: KeyPairPEM, previousCA: KeyPairPEM?, caPhase: String, leaf: KeyPairPEM, bundle: String, handledRotationRequest: String?,
        clientCertificates: ClientCertificates?, gateway: GatewayCertificates? = nil
    ) {
        self.gateway = gateway
        self.currentCA = currentCA
        self.previousCA = previousCA
        self.caPhase = caPhase
        self.leaf = leaf
        self.bundle = bundle
        self.handledRotationRequest = handledRotationRequest
        self.clientCertificates = clientCertificates
    }
}

/// One stored credential: the password and its bcrypt hash. Never printed.
public struct StoredCredential: Sendable, Hashable, CustomStringConvertible {
    public var description: String { "StoredCredential(redacted)" }
    public var password: String
    public var hash: String
    public init(password: String, hash: String) {
        self.password = password
        self.hash = hash
    }
}

/// What the credential sub-reconciler decided, as plain values: Render turns it into the
/// `<stack>-credentials` Secret (the state), the `<stack>-htpasswd` Secret (the file the
/// collector reads) and the client Secrets.
public struct CredentialMaterial: Sendable, Hashable {
    public var generation: Int
    public var phase: String
    /// RFC 3339 times, as recorded.
    public var phaseSince: String
    public var rotatedAt: String
    public var published: Set<String>
    public var handledRequest: String?
    /// Every stored credential, by generation and client.
    public var credentials: [Int: [String: StoredCredential]]
    /// The htpasswd file (bcrypt lines of every generation the collector accepts).
    public var htpasswd: String
    /// The client Secrets that may be written now.
    public var clientSecrets: [ClientCredential]

    public init(
        generation: Int, phase: String, phaseSince: String, rotatedAt: String, published: Set<String>, handledRequest: String?,
        credentials: [Int: [String: StoredCredential]], htpasswd: String, clientSecrets: [ClientCredential]
    ) {
        self.generation = generation
        self.phase = phase
        self.phaseSince = phaseSince
        self.rotatedAt = rotatedAt
        self.published = published
        self.handledRequest = handledRequest
        self.credentials = credentials
        self.htpasswd = htpasswd
        self.clientSecrets = clientSecrets
    }
}

/// One client's published credential. Never printed.
public struct ClientCredential: Sendable, Hashable, CustomStringConvertible {
    public var description: String { "ClientCredential(\(client) in \(namespace), generation \(generation), redacted)" }
    public var client: String
    public var namespace: String
    public var username: String
    public var password: String
    public var generation: Int
    public init(client: String, namespace: String, username: String, password: String, generation: Int) {
        self.client = client
        self.namespace = namespace
        self.username = username
        self.password = password
        self.generation = generation
    }
}
