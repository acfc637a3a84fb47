import KubeModel

/// One object Vigil wants to exist, as JSON for server-side apply, with a hash of its
/// content to recognise it unchanged.
public struct DesiredObject: Sendable, Hashable {
    public var resource: ResourceDescriptor
    public var namespace: String?
    public var name: String
    public var body: JSONValue
    public var hash: String

    public init(resource: ResourceDescriptor, namespace: String?, name: String, body: consuming JSONValue) throws {
        self.resource = resource
        self.namespace = namespace
        self.name = name
        // The hash covers everything but itself; it is then written into the annotations
        // (in place: the body is this object's own).
        let h = body.withSerialized { sha256Hex($0) }
        var b = consume body
        if case .object? = b["metadata"] {
            if b["metadata"]?["annotations"]?.objectValue == nil { b["metadata"]?["annotations"] = .object([:]) }
            b["metadata"]?["annotations"]?[Annotations.desiredHash] = .string(h)
        }
        self.body = b
        self.hash = h
    }

    /// Stamp's form: the body's top level and its metadata given apart, so that the hash is
    /// written into the annotations without a search down the tree and back.
    init(resource: ResourceDescriptor, namespace: String, name: String, object: consuming JSONObject, metadata: consuming JSONObject) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
        var o = object
        var meta = metadata
        o["metadata"] = .object(meta)
        let h = JSONValue.object(o).withSerialized { sha256Hex($0) }
        // Taken out again, each is this object's own, and changes in place.
        o.removeValue(forKey: "metadata")
        var annotations = meta.removeValue(forKey: "annotations")?.objectValue ?? [:]
        annotations[Annotations.desiredHash] = .string(h)
        meta["annotations"] = .object(annotations)
        o["metadata"] = .object(meta)
        self.body = .object(o)
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

