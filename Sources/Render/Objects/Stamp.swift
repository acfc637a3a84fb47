import KubeModel

/// An object a builder made, before it is stamped: its kind, the component label, its body
/// (name and content), and where it lives.
public struct Draft: Sendable {
    public enum Placement: Sendable, Hashable {
        /// In the stack's namespace, owned by the stack.
        case stackNamespace
        /// A client Secret in another namespace: no owner reference can cross namespaces, so
        /// a label names the stack's namespace and a finalizer on the stack removes it.
        case clientNamespace(String)
    }

    public var resource: ResourceDescriptor
    public var component: String
    public var body: JSONValue
    public var placement: Placement

    public init(_ resource: ResourceDescriptor, component: String, body: JSONValue, placement: Placement = .stackNamespace) {
        self.resource = resource
        self.component = component
        self.body = body
        self.placement = placement
    }
}

/// The one place that sets an object's namespace, labels, owner and desired hash.
public enum Stamp {
    /// What every object of one stack carries alike, made once per render: the owner
    /// reference and the labels but the component.
    struct Shared {
        var ownerReferences: JSONValue?
        var labels: JSONObject

        init(_ ctx: StackContext) {
            ownerReferences = ctx.uid.map { uid in
                [
                    [
                        "apiVersion": .string(ObservabilityStack.resource.apiVersion), "kind": .string(ObservabilityStack.resource.kind),
                        "name": .string(ctx.name), "uid": .string(uid), "controller": true, "blockOwnerDeletion": true,
                    ]
                ]
            }
            labels = [:]
            labels.reserveCapacity(8)
            Labels.stamp(&labels, ctx, component: "")
            labels.removeValue(forKey: Labels.component)
        }
    }

    /// Stamps a draft for the stack. Offline (`vigil render`) the stack has no uid, and no
    /// owner reference is set. The draft's body is given apart, owned (`DesiredState.stamped`
    /// moves it out of the list): it is changed in place.
    static func object(_ draft: Draft, body: consuming JSONValue, for ctx: StackContext, shared: Shared) throws -> DesiredObject {
        var o: JSONObject
        switch consume body {
        case .object(let x): o = x
        case let other: return try DesiredObject(resource: draft.resource, namespace: ctx.namespace, name: "", body: other)
        }
        var meta = o.removeValue(forKey: "metadata")?.objectValue ?? [:]
        // The stack's labels over the builder's.
        var labels = meta.removeValue(forKey: "labels")?.objectValue ?? [:]
        if labels.isEmpty {
            labels = shared.labels
        } else {
            labels.reserveCapacity(labels.count + 8)
            for (key, value) in shared.labels { labels[key] = value }
        }
        labels[Labels.component] = .string(draft.component)
        meta.reserveCapacity(meta.count + 5)
        let namespace: String
        switch draft.placement {
        case .stackNamespace:
            namespace = ctx.namespace
            if let refs = shared.ownerReferences { meta["ownerReferences"] = refs }
        case .clientNamespace(let ns):
            namespace = ns
            labels[Annotations.stackNamespaceLabel] = .string(ctx.namespace)
            if let uid = ctx.uid { labels[Annotations.stackUIDLabel] = .string(uid) }
        }
        meta["namespace"] = .string(namespace)
        meta["labels"] = .object(labels)
        let name = meta["name"]?.stringValue ?? ""
        return DesiredObject(resource: draft.resource, namespace: namespace, name: name, object: o, metadata: meta)
    }
}
