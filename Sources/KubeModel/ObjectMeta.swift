/// `metav1.ObjectMeta`: the fields Vigil reads and writes. Nil fields are omitted when encoding.
public struct ObjectMeta: Codable, Sendable, Hashable {
    public var name: String?
    public var generateName: String?
    public var namespace: String?
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int?
    public var creationTimestamp: String?
    public var deletionTimestamp: String?
    public var labels: [String: String]?
    public var annotations: [String: String]?
    public var ownerReferences: [OwnerReference]?
    public var finalizers: [String]?

    public init(
        name: String? = nil,
        namespace: String? = nil,
        labels: [String: String]? = nil,
        annotations: [String: String]? = nil,
        ownerReferences: [OwnerReference]? = nil
    ) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.annotations = annotations
        self.ownerReferences = ownerReferences
    }
}

/// `metav1.OwnerReference`.
public struct OwnerReference: Codable, Sendable, Hashable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool?
    public var blockOwnerDeletion: Bool?

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool? = true, blockOwnerDeletion: Bool? = true) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }
}

/// `metav1.ListMeta`.
public struct ListMeta: Codable, Sendable, Hashable {
    public var resourceVersion: String?
    public var `continue`: String?
    public var remainingItemCount: Int?

    public init(resourceVersion: String? = nil, continue: String? = nil) {
        self.resourceVersion = resourceVersion
        self.continue = `continue`
    }
}

/// A typed list as the API server returns it.
public struct KubeList<Item: Codable & Sendable>: Codable, Sendable {
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ListMeta
    public var items: [Item]

    public init(metadata: ListMeta, items: [Item]) {
        self.metadata = metadata
        self.items = items
    }
}

extension ObjectMeta {
    /// The metadata fields this type holds: `Unstructured` keeps them here only.
    static let modelledKeys = [
        "name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp", "labels", "annotations",
        "ownerReferences", "finalizers",
    ]

    /// Writes the fields that are set into `meta`, as the API server writes them.
    func insertFields(into meta: inout JSONObject) {
        func put(_ key: String, _ value: String?) { if let value { meta[key] = .string(value) } }
        put("name", name)
        put("generateName", generateName)
        put("namespace", namespace)
        put("uid", uid)
        put("resourceVersion", resourceVersion)
        if let generation { meta["generation"] = .int(generation) }
        put("creationTimestamp", creationTimestamp)
        put("deletionTimestamp", deletionTimestamp)
        if let labels { meta["labels"] = .object(JSONObject(strings: labels)) }
        if let annotations { meta["annotations"] = .object(JSONObject(strings: annotations)) }
        if let ownerReferences {
            meta["ownerReferences"] = .array(
                ownerReferences.map { r in
                    var o: JSONObject = ["apiVersion": .string(r.apiVersion), "kind": .string(r.kind), "name": .string(r.name), "uid": .string(r.uid)]
                    if let c = r.controller { o["controller"] = .bool(c) }
                    if let b = r.blockOwnerDeletion { o["blockOwnerDeletion"] = .bool(b) }
                    return .object(o)
                })
        }
        if let finalizers { meta["finalizers"] = .array(finalizers.map(JSONValue.string)) }
    }
}
