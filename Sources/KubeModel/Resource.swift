import Foundation

/// Where a kind lives in the API: enough to build its REST paths.
public struct ResourceDescriptor: Sendable, Hashable, CustomStringConvertible {
    public let group: String
    public let version: String
    public var kind: String
    public var plural: String
    public var namespaced: Bool

    public init(group: String, version: String, kind: String, plural: String, namespaced: Bool = true) {
        self.group = group
        self.version = version
        apiVersion = group.isEmpty ? version : "\(group)/\(version)"
        self.kind = kind
        self.plural = plural
        self.namespaced = namespaced
    }

    /// `v1` for the core group, `group/version` otherwise: made once (every rendered object
    /// and owner reference reads it).
    public let apiVersion: String

    public var description: String { group.isEmpty ? plural : "\(plural).\(group)" }

    /// The collection path, for one namespace or, with `nil`, across all namespaces.
    public func path(namespace: String?) -> String {
        let base = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
        if namespaced, let namespace {
            return "\(base)/namespaces/\(namespace)/\(plural)"
        }
        return "\(base)/\(plural)"
    }

    public func path(namespace: String?, name: String, subresource: String? = nil) -> String {
        var p = "\(path(namespace: namespace))/\(name)"
        if let subresource { p += "/\(subresource)" }
        return p
    }
}

/// A Kubernetes object Vigil reads or writes.
public protocol KubeResource: MetadataBearing {
    static var resource: ResourceDescriptor { get }
    var apiVersion: String? { get set }
    var kind: String? { get set }
    var metadata: ObjectMeta { get set }
}

extension KubeResource {
    /// `namespace/name`, or `name` for cluster-scoped objects.
    public var key: String {
        if let ns = metadata.namespace, !ns.isEmpty { return "\(ns)/\(metadata.name ?? "")" }
        return metadata.name ?? ""
    }

    /// Sets `apiVersion` and `kind` from the resource descriptor; writes need them.
    public mutating func stampTypeMeta() {
        apiVersion = Self.resource.apiVersion
        kind = Self.resource.kind
    }
}

/// One event of a watch stream.
public struct WatchEvent<Object: Codable & Sendable>: Codable, Sendable {
    public enum EventType: String, Codable, Sendable {
        case added = "ADDED"
        case modified = "MODIFIED"
        case deleted = "DELETED"
        case bookmark = "BOOKMARK"
        case error = "ERROR"
    }
    public var type: EventType
    public var object: Object

    public init(type: EventType, object: Object) {
        self.type = type
        self.object = object
    }
}

/// Anything with object metadata: typed resources and `Unstructured`.
public protocol MetadataBearing: Codable, Sendable {
    var metadata: ObjectMeta { get }
}

extension ObjectMeta {
    /// `namespace/name`, or `name` for cluster-scoped objects.
    public var key: String {
        if let ns = namespace, !ns.isEmpty { return "\(ns)/\(name ?? "")" }
        return name ?? ""
    }

    /// The owner that is the controller, if any.
    public var controllerOwner: OwnerReference? {
        ownerReferences?.first { $0.controller == true }
    }
}

/// An object of any kind, kept as JSON with its metadata decoded. `managedFields` is
/// dropped: Vigil never reads it and it is the bulk of many objects.
///
/// The JSON is held as its bytes and parsed when `object` is read: the informers' caches
/// hold every object Vigil owns, and as a tree of `JSONValue` dictionaries they took several
/// times the memory of the JSON itself (BENCHMARKS.md, P3). The metadata `ObjectMeta`
/// models is kept there only, not in the bytes as well; `object` puts it back.
public struct Unstructured: MetadataBearing, Hashable {
    public var metadata: ObjectMeta
    /// The object's JSON without the metadata fields `ObjectMeta` holds.
    var raw: [UInt8]

    /// The whole object, parsed from the bytes it is kept as, with `metadata`; setting it
    /// writes them anew and reads the metadata from it.
    public var object: JSONValue {
        get {
            let parsed = (try? JSONParser.parse(raw)) ?? .null
            guard case .object(var top) = parsed else { return parsed }
            var meta = top["metadata"]?.objectValue ?? [:]
            metadata.insertFields(into: &meta)
            if !meta.isEmpty { top["metadata"] = .object(meta) }
            return .object(top)
        }
        set {
            if let (raw, metadata) = try? Self.split(newValue) {
                self.raw = raw
                self.metadata = metadata
            } else {
                raw = Self.exact(newValue.serialized())
            }
        }
    }

    /// `bytes` in an array of their own size. The writer grows its array by doubling, so a
    /// written object's array has up to twice the room it needs, and the caches keep every
    /// owned object for as long as it exists (BENCHMARKS.md, P3).
    static func exact(_ bytes: [UInt8]) -> [UInt8] {
        guard bytes.capacity - bytes.count > 64 else { return bytes }
        return [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
            count = buffer.initialize(fromContentsOf: bytes)
        }
    }

    /// The bytes to keep of `object` (without `managedFields` and without what the decoded
    /// metadata holds), and its decoded metadata.
    static func split(_ object: JSONValue) throws -> ([UInt8], ObjectMeta) {
        guard case .object(var top) = object, case .object(var meta)? = top["metadata"] else {
            return (exact(object.serialized()), try ObjectMeta(json: object["metadata"] ?? [:]))
        }
        let metadata = try ObjectMeta(json: .object(meta))
        meta["managedFields"] = nil
        for key in ObjectMeta.modelledKeys { meta[key] = nil }
        top["metadata"] = meta.isEmpty ? nil : .object(meta)
        return (exact(JSONValue.object(top).serialized()), metadata)
    }

    public init(object: JSONValue) throws {
        (raw, metadata) = try Self.split(object)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(object: try JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try object.encode(to: encoder)
    }
}

extension Unstructured {
    /// A Secret's `data[key]`, decoded from base64 as UTF-8; nil when absent or malformed.
    public func secretString(_ key: String) -> String? {
        guard let b64 = object["data"]?[key]?.stringValue, let d = Data(base64Encoded: b64) else { return nil }
        return String(data: d, encoding: .utf8)
    }
}

extension JSONValue {
    /// A Secret `data` value: the base64 of the string's UTF-8.
    public static func secretData(_ s: String) -> JSONValue { .string(Data(s.utf8).base64EncodedString()) }
}
