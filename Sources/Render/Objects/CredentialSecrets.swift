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
        var data: [String: JSONValue] = [:]
        for (g, byClient) in m.credentials {
            for (c, cred) in byClient {
                data[passwordKey(c, g)] = .secretData(cred.password)
                data[passwordKey(c, g) + ".bcrypt"] = .secretData(cred.hash)
            }
        }
        var annotations: [String: JSONValue] = [
            Annotations.credentialGeneration: .string(String(m.generation)),
            Annotations.credentialPhase: .string(m.phase),
            Annotations.credentialPhaseSince: .string(m.phaseSince),
            Annotations.credentialRotatedAt: .string(m.rotatedAt),
            Annotations.publishedClients: .string(m.published.sorted().joined(separator: ",")),
        ]
        if let h = m.handledRequest { annotations[Annotations.rotationRequestHandled] = .string(h) }
        let body: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": ["name": .string(ctx.names.credentials), "annotations": .object(annotations)],
            "data": .object(data),
        ]
        return Draft(Secret.resource, component: component, body: body)
    }

    static func htpasswd(_ ctx: StackContext, _ m: CredentialMaterial) -> Draft {
        let body: JSONValue = [
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": ["name": .string(ctx.names.htpasswd), "annotations": .object([Annotations.credentialGeneration: .string(String(m.generation))])],
            "data": ["htpasswd": .secretData(m.htpasswd)],
        ]
        return Draft(Secret.resource, component: component, body: body)
    }
}
