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
        let h = sha256Hex(try JSONCoding.encode(body))
        var b = body
        if case .object(var o) = b, case .object(var meta)? = o["metadata"] {
            var ann = meta["annotations"]?.objectValue ?? [:]
            ann[Labels.desiredHashAnnotation] = .string(h)
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

/// Everything one stack becomes, from its spec alone: a pure function.
public enum DesiredState {
    /// The desired objects of a validated stack.
    public static func render(_ stack: ObservabilityStack) throws -> RenderedStack {
        let stackName = stack.metadata.name ?? ""
        let config = CollectorConfig.render(stack)
        let configYAML = try YAMLText.document(config)
        var cm = ConfigMap(metadata: ObjectMeta(name: Naming.collector(stackName)), data: ["config.yaml": configYAML])
        stamp(&cm, for: stack, component: "collector")
        let configHash = sha256Hex(Array(configYAML.utf8))
        return RenderedStack(objects: [try DesiredObject(cm)], configHash: configHash)
    }
}

/// The result of rendering one stack.
public struct RenderedStack: Sendable, Hashable {
    public var objects: [DesiredObject]
    /// sha256 of the rendered collector config.
    public var configHash: String
}
