import KubeModel

/// One object Vigil wants to exist, as JSON for server-side apply, with a hash of its
/// content to recognise it unchanged.
public struct DesiredObject: Sendable, Hashable {
    public var resource: ResourceDescriptor
    public var namespace: String?
    public var name: String
    public var body: JSONValue
    public var hash: String

    public init(resource: ResourceDescriptor, namespace: String?, name: String, body: JSONValue) throws {
        self.resource = resource
        self.namespace = namespace
        self.name = name
        // The hash covers everything but itself; it is then written into the annotations.
        let h = body.withSerialized { sha256Hex($0) }
        var b = body
        if case .object(var o) = b, case .object(var meta)? = o["metadata"] {
            var ann = meta["annotations"]?.objectValue ?? [:]
            ann[Annotations.desiredHash] = .string(h)
            meta["annotations"] = .object(ann)
            o["metadata"] = .object(meta)
            b = .object(o)
        }
        self.body = b
        self.hash = h
    }

    public init(_ object: some KubeResource) throws {
        try self.init(
            resource: type(of: object).resource,
            namespace: object.metadata.namespace,
            name: object.metadata.name ?? "",
            body: try jsonValue(of: object)
        )
    }

    public var key: String { "\(resource.plural)/\(namespace ?? "")/\(name)" }
}

