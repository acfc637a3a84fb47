import Foundation
import KubeClient
import KubeModel
import Logging
import Render
import Rotation
import ServiceLifecycle

/// The admission webhook's own certificates, kept the way a stack's are: a CA and a
/// serving leaf for the webhook Service's names, renewed and rolled over by
/// `CertificatePlanner`, kept in a Secret of the operator's namespace, the CA bundle
/// patched into the ValidatingWebhookConfiguration's `caBundle`, and the leaf swapped into
/// the running server (no restart). Every replica runs it: the Secret is created with a
/// POST and updated with its resourceVersion as a precondition, so that replicas never
/// overwrite each other and all serve the leaf the Secret holds.
public final class WebhookCertificates: Service, Sendable {
    public struct Options: Sendable {
        /// The operator's namespace, where the Secret lives and the Service runs.
        public var namespace: String
        public var secretName = "vigil-webhook-tls"
        /// The webhook Service: its names are the leaf's DNS names.
        public var serviceName = "vigil-webhook"
        /// The ValidatingWebhookConfiguration whose `caBundle` Vigil writes (nil: none).
        public var configurationName: String? = "vigil"
        /// More names and addresses for the leaf (a webhook registered by URL).
        public var extraDNSNames: [String] = []
        public var extraIPAddresses: [String] = []
        public var leafDuration: TimeInterval = 90 * 86400

        public init(namespace: String) { self.namespace = namespace }

        public var dnsNames: [String] {
            let s = serviceName, ns = namespace
            return [s, "\(s).\(ns)", "\(s).\(ns).svc", "\(s).\(ns).svc.cluster.local"] + extraDNSNames
        }
    }

    static let validatingWebhookConfigurations = ResourceDescriptor(
        group: "admissionregistration.k8s.io", version: "v1", kind: "ValidatingWebhookConfiguration", plural: "validatingwebhookconfigurations", namespaced: false)
    static let stateKey = "state.json"

    let client: KubeClient
    let options: Options
    let tls: WebhookTLS
    let now: @Sendable () -> Date
    let logger: Logger

    public init(client: KubeClient, options: Options, tls: WebhookTLS, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.client = client
        self.options = options
        self.tls = tls
        self.now = now
        self.logger = logger
    }

    /// Leaves live at least 3 minutes: with the 5 minutes' backdate, a shorter one would be
    /// due for renewal as soon as it is issued.
    var policy: TLSPolicy { TLSPolicy(leafDuration: max(options.leafDuration, 180)) }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var wait: Double
                do {
                    wait = try await self.reconcile()
                } catch {
                    self.logger.warning("webhook certificate: will try again", metadata: ["error": "\(error)"])
                    wait = 5
                }
                // At least every 30 s: a configuration made again (a Helm upgrade, say) gets
                // its caBundle back within that.
                try await Task.sleep(nanoseconds: UInt64(min(max(wait, 0.5), 30) * 1e9))
            }
        }
    }

    /// One pass: plan and write the certificates, serve the leaf, inject the bundle.
    /// Returns the seconds until the next look.
    public func reconcile() async throws -> Double {
        let t = now()
        let secret: Secret?
        do {
            secret = try await client.get(Secret.self, namespace: options.namespace, name: options.secretName)
        } catch let e as KubeAPIError where e.isNotFound {
            secret = nil
        }
        var state = secret.flatMap(Self.state(of:))
        let original = state
        var next = 300.0
        for _ in 0..<5 {
            let mismatch = state?.leaf.map { leafMismatch($0) } ?? false
            let step = CertificatePlanner.next(state, now: t, policy: policy, leafMismatch: mismatch)
            if case .wait(let until) = step {
                next = until.timeIntervalSince(t)
                break
            }
            state = try CertificatePlanner.apply(step, to: state, now: t, policy: policy, issueCA: issueCA, issueLeaf: issueLeaf)
            logger.info("webhook certificate", metadata: ["step": "\(step)"])
        }
        guard let state, let leaf = state.leaf else { return 5 }
        if state != original {
            do {
                try await write(state, over: secret)
            } catch let e as KubeAPIError where e.isConflict || e.isAlreadyExists {
                // Another replica wrote first: serve what it wrote, on the next pass.
                return 0.5
            }
        }
        if tls.serial != leaf.serial {
            try tls.update(certificatePEM: leaf.certificatePEM, keyPEM: leaf.privateKeyPEM)
            logger.info("webhook serving certificate loaded", metadata: ["serial": "\(leaf.serial)", "notAfter": "\(leaf.notAfter)"])
        }
        try await injectBundle(state.bundleFile)
        return next
    }

    func leafMismatch(_ leaf: IssuedCertificate) -> Bool {
        guard let sans = try? PKI.subjectAlternativeNames(certificatePEM: leaf.certificatePEM) else { return true }
        return Set(sans.dns) != Set(options.dnsNames) || Set(sans.ips) != Set(options.extraIPAddresses.compactMap(PKI.canonicalIP))
    }

    func issueCA(_ at: Date) throws -> IssuedCertificate {
        try PKI.issueCA(commonName: "vigil webhook CA (\(options.namespace))", now: at, duration: policy.caDuration)
    }

    func issueLeaf(_ ca: IssuedCertificate, _ at: Date) throws -> IssuedCertificate {
        try PKI.issueLeaf(
            ca: ca, commonName: options.dnsNames[2], dnsNames: options.dnsNames, ipAddresses: options.extraIPAddresses, usage: .server, now: at,
            duration: policy.leafDuration)
    }

    static func state(of secret: Secret) -> TLSState? {
        guard let b64 = secret.data?[stateKey], let bytes = Data(base64Encoded: b64) else { return nil }
        return try? JSONDecoder().decode(TLSState.self, from: bytes)
    }

    /// Creates the Secret, or updates it if it is still the version read.
    func write(_ state: TLSState, over live: Secret?) async throws {
        guard let leaf = state.leaf else { return }
        let data: [String: String] = [
            Self.stateKey: try JSONEncoder().encode(state).base64EncodedString(),
            "tls.crt": Data(leaf.certificatePEM.utf8).base64EncodedString(),
            "tls.key": Data(leaf.privateKeyPEM.utf8).base64EncodedString(),
            "ca.crt": Data(state.bundleFile.utf8).base64EncodedString(),
        ]
        guard let live, let rv = live.metadata.resourceVersion else {
            var meta = ObjectMeta(name: options.secretName, namespace: options.namespace)
            meta.labels = [Labels.managedBy: Labels.managerValue, "app.kubernetes.io/component": "webhook"]
            _ = try await client.create(Secret(metadata: meta, type: "kubernetes.io/tls", data: data))
            return
        }
        let patch: JSONValue = ["metadata": ["resourceVersion": .string(rv)], "data": .object(data.jsonObject)]
        try await client.mergePatch(patch, resource: Secret.resource, namespace: options.namespace, name: options.secretName)
    }

    /// Writes the bundle into every webhook of the configuration whose `caBundle` differs.
    func injectBundle(_ bundle: String) async throws {
        guard let name = options.configurationName else { return }
        let b64 = Data(bundle.utf8).base64EncodedString()
        let live: JSONValue
        do {
            live = try JSONValue.parse(try await client.getRaw(Self.validatingWebhookConfigurations.path(namespace: nil, name: name)))
        } catch let e as KubeAPIError where e.isNotFound {
            logger.debug("no ValidatingWebhookConfiguration to write the CA bundle into", metadata: ["name": "\(name)"])
            return
        }
        guard case .array(var hooks)? = live["webhooks"] else { return }
        var changed = false
        for i in hooks.indices where hooks[i]["clientConfig"]?["caBundle"]?.stringValue != b64 {
            hooks[i]["clientConfig"]?["caBundle"] = .string(b64)
            changed = true
        }
        guard changed, let rv = live["metadata"]?["resourceVersion"]?.stringValue else { return }
        let patch: JSONValue = ["metadata": ["resourceVersion": .string(rv)], "webhooks": .array(hooks)]
        try await client.mergePatch(patch, resource: Self.validatingWebhookConfigurations, namespace: nil, name: name)
        logger.info("CA bundle written into the ValidatingWebhookConfiguration", metadata: ["name": "\(name)"])
    }
}
