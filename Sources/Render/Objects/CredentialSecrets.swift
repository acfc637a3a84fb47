import KubeModel

/// The Secrets of a stack's BasicAuth credentials: `<stack>-credentials` (each password and
/// its hash, and the rotation state as annotations: the source of truth a restarted Vigil
/// resumes from) and `<stack>-htpasswd` (the file the collector mounts, derived from it).
enum CredentialSecrets {
    static let component = "credentials"

    /// The key of one stored password (`g<generation>.<client>`); its hash is under the
    /// same key with `.bcrypt` appended.
    public static func passwordKey(_ client: String, _ generation: Int) -> String { "g\(generation).\(client)" }

    static func record(_ ctx: StackContext, _ m: CredentialMaterial) -> Draft {
        var data: [String: String] = [:]
        for (g, byClient) in m.credentials {
            for (c, cred) in byClient {
                data[passwordKey(c, g)] = cred.password
                data[passwordKey(c, g) + ".bcrypt"] = cred.hash
            }
        }
        var annotations = [
            Annotations.credentialGeneration: String(m.generation),
            Annotations.credentialPhase: m.phase,
            Annotations.credentialPhaseSince: m.phaseSince,
            Annotations.credentialRotatedAt: m.rotatedAt,
            Annotations.publishedClients: m.published.sorted().joined(separator: ","),
        ]
        if let h = m.handledRequest { annotations[Annotations.rotationRequestHandled] = h }
        return Draft(Secret.resource, component: component, body: SecretBody.make(name: ctx.names.credentials, annotations: annotations, data: data))
    }

    static func htpasswd(_ ctx: StackContext, _ m: CredentialMaterial) -> Draft {
        let body = SecretBody.make(
            name: ctx.names.htpasswd, annotations: [Annotations.credentialGeneration: String(m.generation)], data: ["htpasswd": m.htpasswd]
        )
        return Draft(Secret.resource, component: component, body: body)
    }
}
