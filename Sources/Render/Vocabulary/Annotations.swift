/// Every annotation, label and finalizer key Vigil defines, under one prefix.
public enum Annotations {
    public static let prefix = "observability.vigil.dev/"

    // On objects Vigil applies.
    /// Hash of the desired object as Vigil last applied it: a changed desired object is
    /// re-applied even where the live object still holds every desired field.
    public static let desiredHash = prefix + "desired-hash"
    /// Pod template: hash of everything the collector reads at start (config, mounted
    /// material), so that a change rolls the pods.
    public static let configHash = prefix + "config-hash"
    /// Pod template: the hash of the htpasswd file the pods were made for.
    public static let htpasswdHash = prefix + "htpasswd-hash"

    // On the stack, set by users.
    /// Any new value forces a renewal of the serving certificate.
    public static let rotateCertificate = prefix + "rotate-certificate"
    /// Any new value rotates the stack's BasicAuth credentials now.
    public static let rotateCredentials = prefix + "rotate-credentials"
    /// The key `rotateCredentials` had before it moved under the prefix; still read for one
    /// release (the README says so). The prefixed key wins when both are set.
    public static let legacyRotateCredentials = "vigil.dev/rotate-credentials"

    // Certificate state, on `<stack>-ca` and `<stack>-ingest-tls`.
    public static let caPhase = prefix + "ca-phase"
    public static let certificateRotatedFor = prefix + "rotated-for"
    /// The serial of the CA that signed a certificate Secret's leaf (the gateway's and the
    /// agents'): a leaf moves when the signing CA does.
    public static let issuerSerial = prefix + "issuer-serial"
    /// sha256 of the trust bundle the agents check the gateway against, on their pod
    /// template: the agents read it at start, so a new bundle rolls them.
    public static let trustBundleHash = prefix + "trust-bundle-hash"

    // Credential state, on `<stack>-credentials` (and the generation on client Secrets).
    public static let credentialGeneration = prefix + "credential-generation"
    public static let credentialPhase = prefix + "credential-phase"
    public static let credentialPhaseSince = prefix + "phase-since"
    public static let credentialRotatedAt = prefix + "rotated-at"
    public static let publishedClients = prefix + "published-clients"
    public static let rotationRequestHandled = prefix + "rotation-request-handled"

    // Labels.
    public static let environmentLabel = prefix + "environment"
    /// On a client Secret in another namespace: the namespace of the stack that wrote it.
    public static let stackNamespaceLabel = prefix + "stack-namespace"
    /// On client Secrets: the uid of the stack that wrote them (with the stack's namespace
    /// and name, what makes them that stack's).
    public static let stackUIDLabel = prefix + "stack-uid"
    /// On a namespace: the stacks (`<namespace>/<name>`, comma-separated) that may publish
    /// client Secrets into it. A stack's own namespace needs none.
    public static let acceptStacks = prefix + "accept-stacks"
    /// On a Deployment, StatefulSet or DaemonSet in a client's namespace: `<stack>` (a
    /// stack of its own namespace) or `<namespace>/<stack>`. Vigil restarts it (bumps
    /// `restartedAt` on its pod template) once the client Secret it reads carries a new
    /// credential, trust bundle or client certificate, and the collector accepts it.
    public static let restartOnRotation = prefix + "restart-on-rotation"
    /// The pod template annotation Vigil bumps, as `kubectl rollout restart` does its own:
    /// the time the client Secret's content being restarted onto was published.
    public static let restartedAt = prefix + "restartedAt"

    /// The stacks a namespace's annotations accept.
    public static func acceptedStacks(_ annotations: [String: String]?) -> Set<String> {
        Set((annotations?[acceptStacks] ?? "").split(separator: ",").map { String($0.filter { $0 != " " && $0 != "\t" && $0 != "\n" }) }.filter { !$0.isEmpty })
    }
    /// Marks the headless Services that Prometheus scrapes through.
    public static let scrapeLabel = prefix + "scrape"

    /// On the stack: client Secrets in other namespaces are removed before it goes.
    public static let clientSecretsFinalizer = prefix + "client-secrets"

    /// The rotation request on a stack: the prefixed key, else the legacy one.
    public static func rotateCredentialsRequest(_ annotations: [String: String]?) -> String? {
        annotations?[rotateCredentials] ?? annotations?[legacyRotateCredentials]
    }
}
