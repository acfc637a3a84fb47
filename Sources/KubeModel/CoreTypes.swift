/// `v1.ConfigMap`.
public struct ConfigMap: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(group: "", version: "v1", kind: "ConfigMap", plural: "configmaps")
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var data: [String: String]?

    public init(metadata: ObjectMeta, data: [String: String]? = nil) {
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
        self.metadata = metadata
        self.data = data
    }
}

/// `v1.Secret`. Its `description` never shows the data.
public struct Secret: KubeResource, Hashable, CustomStringConvertible {
    public static let resource = ResourceDescriptor(group: "", version: "v1", kind: "Secret", plural: "secrets")
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var type: String?
    /// Base64-encoded values, as on the wire.
    public var data: [String: String]?
    public var stringData: [String: String]?

    public init(metadata: ObjectMeta, type: String? = nil, data: [String: String]? = nil) {
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
        self.metadata = metadata
        self.type = type
        self.data = data
    }

    public var description: String {
        "Secret(\(metadata.namespace ?? "")/\(metadata.name ?? ""), keys: \((data ?? [:]).keys.sorted()))"
    }
}

/// `v1.Namespace`.
public struct Namespace: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(group: "", version: "v1", kind: "Namespace", plural: "namespaces", namespaced: false)
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta

    public init(name: String, labels: [String: String]? = nil) {
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
        self.metadata = ObjectMeta(name: name, labels: labels)
    }
}

/// `v1.ObjectReference`, as events use it.
public struct ObjectReference: Codable, Sendable, Hashable {
    public var apiVersion: String?
    public var kind: String?
    public var namespace: String?
    public var name: String?
    public var uid: String?
    public var resourceVersion: String?

    public init(apiVersion: String? = nil, kind: String? = nil, namespace: String? = nil, name: String? = nil, uid: String? = nil) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.namespace = namespace
        self.name = name
        self.uid = uid
    }
}

/// `v1.EventSource`.
public struct EventSource: Codable, Sendable, Hashable {
    public var component: String?
    public var host: String?
    public init(component: String? = nil) { self.component = component }
}

/// `v1.Event` (the core group's events, which `kubectl describe` shows).
public struct Event: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(group: "", version: "v1", kind: "Event", plural: "events")
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var involvedObject: ObjectReference
    public var reason: String?
    public var message: String?
    public var type: String?
    public var source: EventSource?
    public var firstTimestamp: String?
    public var lastTimestamp: String?
    public var count: Int?

    public init(metadata: ObjectMeta, involvedObject: ObjectReference, reason: String, message: String, type: String, component: String, timestamp: String) {
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
        self.metadata = metadata
        self.involvedObject = involvedObject
        self.reason = reason
        self.message = message
        self.type = type
        self.source = EventSource(component: component)
        self.firstTimestamp = timestamp
        self.lastTimestamp = timestamp
        self.count = 1
    }
}

/// `metav1.Status`, the body of every API error.
public struct KubeStatus: Codable, Sendable, Hashable {
    public var kind: String?
    public var apiVersion: String?
    public var status: String?
    public var message: String?
    public var reason: String?
    public var code: Int?
    public var details: JSONValue?

    public init(status: String? = "Failure", message: String?, reason: String?, code: Int?) {
        self.kind = "Status"
        self.apiVersion = "v1"
        self.status = status
        self.message = message
        self.reason = reason
        self.code = code
    }
}

/// Read without JSONDecoder: every answer that is not a success is one (a read of an
/// object that does not exist yet is a 404), and JSONDecoder's path for it was 2 % of
/// Vigil's CPU while converging (BENCHMARKS.md, P1). A field of the wrong type fails the
/// whole decode, as JSONDecoder does.
extension KubeStatus: FastJSONDecodable {
    public init(json: JSONValue) throws {
        guard case .object(let o) = json else { throw FieldTypeMismatch(field: "Status") }
        func string(_ field: String) throws -> String? { try FieldTypeMismatch.string(o[field], "Status.\(field)") }
        kind = try string("kind")
        apiVersion = try string("apiVersion")
        status = try string("status")
        message = try string("message")
        reason = try string("reason")
        switch o["code"] {
        case nil, .null?: code = nil
        case .int(let i)?: code = i
        case .double(let d)? where d.rounded() == d && abs(d) < 1e15: code = Int(d)
        default: throw FieldTypeMismatch(field: "Status.code")
        }
        details = o["details"].flatMap { $0 == .null ? nil : $0 }
    }
}

/// `metav1.Condition`.
/// The status of a condition, as Kubernetes writes it.
public enum ConditionStatus: String, Sendable, Hashable {
    case `true` = "True"
    case `false` = "False"
    case unknown = "Unknown"
}

public struct Condition: Codable, Sendable, Hashable {
    public var type: String
    public var status: String
    public var reason: String
    public var message: String
    public var lastTransitionTime: String
    public var observedGeneration: Int?

    /// Whether the condition holds (`status: "True"`).
    public var isTrue: Bool { status == ConditionStatus.true.rawValue }

    public init(type: String, status: String, reason: String, message: String, lastTransitionTime: String, observedGeneration: Int?) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.lastTransitionTime = lastTransitionTime
        self.observedGeneration = observedGeneration
    }

    /// Same meaning, ignoring when it became so.
    public func sameState(as other: Condition) -> Bool {
        type == other.type && status == other.status && reason == other.reason && message == other.message
            && observedGeneration == other.observedGeneration
    }
}

/// `coordination.k8s.io/v1` Lease: leader election.
public struct Lease: KubeResource, Hashable {
    public static let resource = ResourceDescriptor(group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases")
    public var apiVersion: String?
    public var kind: String?
    public var metadata: ObjectMeta
    public var spec: LeaseSpec?

    public init(metadata: ObjectMeta, spec: LeaseSpec) {
        self.apiVersion = Self.resource.apiVersion
        self.kind = Self.resource.kind
        self.metadata = metadata
        self.spec = spec
    }
}

public struct LeaseSpec: Codable, Sendable, Hashable {
    public var holderIdentity: String?
    public var leaseDurationSeconds: Int?
    /// MicroTime: RFC 3339 with six fractional digits.
    public var acquireTime: String?
    public var renewTime: String?
    public var leaseTransitions: Int?

    public init(holderIdentity: String?, leaseDurationSeconds: Int?, acquireTime: String?, renewTime: String?, leaseTransitions: Int?) {
        self.holderIdentity = holderIdentity
        self.leaseDurationSeconds = leaseDurationSeconds
        self.acquireTime = acquireTime
        self.renewTime = renewTime
        self.leaseTransitions = leaseTransitions
    }
}

/// A `v1.Node` as Vigil keeps it: its name, resourceVersion and IP addresses, nothing else
/// (labels, annotations, conditions and images are dropped as the object is decoded).
public struct NodeAddresses: MetadataBearing, Hashable {
    public static let resource = ResourceDescriptor(group: "", version: "v1", kind: "Node", plural: "nodes", namespaced: false)
    /// The address types kubelet probes can come from.
    public static let types: Set<String> = ["InternalIP", "ExternalIP"]
    public var metadata: ObjectMeta
    public var addresses: [String]

    public init(name: String, addresses: [String], resourceVersion: String? = nil) {
        metadata = ObjectMeta(name: name)
        metadata.resourceVersion = resourceVersion
        self.addresses = addresses
    }

    struct Address: Codable {
        var type: String?
        var address: String?
    }
    struct Status: Codable {
        var addresses: [Address]?
    }
    struct Meta: Codable {
        var name: String?
        var resourceVersion: String?
    }
    enum CodingKeys: String, CodingKey {
        case metadata, status
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let meta = try c.decodeIfPresent(Meta.self, forKey: .metadata)
        metadata = ObjectMeta(name: meta?.name)
        metadata.resourceVersion = meta?.resourceVersion
        let status = try c.decodeIfPresent(Status.self, forKey: .status)
        addresses = (status?.addresses ?? []).compactMap { a in Self.types.contains(a.type ?? "") ? a.address : nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Meta(name: metadata.name, resourceVersion: metadata.resourceVersion), forKey: .metadata)
        try c.encode(Status(addresses: addresses.map { Address(type: "InternalIP", address: $0) }), forKey: .status)
    }
}

/// A `v1.Pod` as Vigil keeps it: who it is, when it started, and the Secrets it reads
/// (through `envFrom`, `env[].valueFrom.secretKeyRef`, a `secret` volume or a projected
/// one). Everything else is dropped as the object is decoded.
public struct PodSecretUse: MetadataBearing, Hashable {
    public static let resource = ResourceDescriptor(group: "", version: "v1", kind: "Pod", plural: "pods")
    public var metadata: ObjectMeta
    /// `status.startTime`, RFC 3339; nil until the kubelet has taken the pod.
    public var startTime: String?
    /// Names of the Secrets it reads, sorted.
    public var secrets: [String]

    public init(namespace: String, name: String, startTime: String?, secrets: [String], resourceVersion: String? = nil) {
        metadata = ObjectMeta(name: name, namespace: namespace)
        metadata.resourceVersion = resourceVersion
        self.startTime = startTime
        self.secrets = secrets.sorted()
    }

    struct Ref: Codable { var name: String? }
    struct KeyRef: Codable { var name: String? }
    struct ValueFrom: Codable { var secretKeyRef: KeyRef? }
    struct Env: Codable { var valueFrom: ValueFrom? }
    struct EnvFrom: Codable { var secretRef: Ref? }
    struct Container: Codable {
        var env: [Env]?
        var envFrom: [EnvFrom]?
    }
    struct SecretVolume: Codable { var secretName: String? }
    struct Projection: Codable { var secret: Ref? }
    struct Projected: Codable { var sources: [Projection]? }
    struct Volume: Codable {
        var secret: SecretVolume?
        var projected: Projected?
    }
    struct Spec: Codable {
        var containers: [Container]?
        var initContainers: [Container]?
        var ephemeralContainers: [Container]?
        var volumes: [Volume]?
    }
    struct Status: Codable { var startTime: String? }
    struct Meta: Codable {
        var name: String?
        var namespace: String?
        var resourceVersion: String?
    }
    enum CodingKeys: String, CodingKey { case metadata, spec, status }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let meta = try c.decodeIfPresent(Meta.self, forKey: .metadata)
        metadata = ObjectMeta(name: meta?.name, namespace: meta?.namespace)
        metadata.resourceVersion = meta?.resourceVersion
        startTime = try c.decodeIfPresent(Status.self, forKey: .status)?.startTime
        secrets = Self.secretNames(try c.decodeIfPresent(Spec.self, forKey: .spec))
    }

    /// The Secrets a pod spec reads: through `envFrom`, `env.valueFrom.secretKeyRef`, a
    /// Secret volume or a projected volume, sorted.
    static func secretNames(_ spec: Spec?) -> [String] {
        var names = Set<String>()
        for container in (spec?.containers ?? []) + (spec?.initContainers ?? []) + (spec?.ephemeralContainers ?? []) {
            for e in container.envFrom ?? [] { if let n = e.secretRef?.name { names.insert(n) } }
            for e in container.env ?? [] { if let n = e.valueFrom?.secretKeyRef?.name { names.insert(n) } }
        }
        for v in spec?.volumes ?? [] {
            if let n = v.secret?.secretName { names.insert(n) }
            for p in v.projected?.sources ?? [] { if let n = p.secret?.name { names.insert(n) } }
        }
        return names.sorted()
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Meta(name: metadata.name, namespace: metadata.namespace, resourceVersion: metadata.resourceVersion), forKey: .metadata)
        try c.encode(Spec(containers: nil, initContainers: nil, ephemeralContainers: nil, volumes: secrets.map { Volume(secret: SecretVolume(secretName: $0), projected: nil) }), forKey: .spec)
        try c.encode(Status(startTime: startTime), forKey: .status)
    }
}

/// A workload (Deployment, StatefulSet or DaemonSet) as Vigil's opt-in restarts read it: its
/// name and annotations, its pod template's annotations, and the Secrets that template reads.
public struct WorkloadSecretUse: MetadataBearing, Hashable {
    public static let deployments = ResourceDescriptor(group: "apps", version: "v1", kind: "Deployment", plural: "deployments")
    public static let statefulSets = ResourceDescriptor(group: "apps", version: "v1", kind: "StatefulSet", plural: "statefulsets")
    public static let daemonSets = ResourceDescriptor(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets")
    public static let kinds = [deployments, statefulSets, daemonSets]

    public var metadata: ObjectMeta
    public var templateAnnotations: [String: String]
    public var secrets: [String]

    public init(namespace: String, name: String, annotations: [String: String]? = nil, templateAnnotations: [String: String] = [:], secrets: [String]) {
        metadata = ObjectMeta(name: name, namespace: namespace)
        metadata.annotations = annotations
        self.templateAnnotations = templateAnnotations
        self.secrets = secrets.sorted()
    }

    struct Meta: Codable {
        var name: String?
        var namespace: String?
        var annotations: [String: String]?
        var resourceVersion: String?
    }
    struct TemplateMeta: Codable { var annotations: [String: String]? }
    struct Template: Codable {
        var metadata: TemplateMeta?
        var spec: PodSecretUse.Spec?
    }
    struct Spec: Codable { var template: Template? }
    enum CodingKeys: String, CodingKey { case metadata, spec }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let meta = try c.decodeIfPresent(Meta.self, forKey: .metadata)
        metadata = ObjectMeta(name: meta?.name, namespace: meta?.namespace)
        metadata.annotations = meta?.annotations
        metadata.resourceVersion = meta?.resourceVersion
        let template = try c.decodeIfPresent(Spec.self, forKey: .spec)?.template
        templateAnnotations = template?.metadata?.annotations ?? [:]
        secrets = PodSecretUse.secretNames(template?.spec)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Meta(name: metadata.name, namespace: metadata.namespace, annotations: metadata.annotations, resourceVersion: metadata.resourceVersion), forKey: .metadata)
        let volumes = secrets.map { PodSecretUse.Volume(secret: PodSecretUse.SecretVolume(secretName: $0), projected: nil) }
        try c.encode(
            Spec(template: Template(metadata: TemplateMeta(annotations: templateAnnotations), spec: PodSecretUse.Spec(containers: nil, initContainers: nil, ephemeralContainers: nil, volumes: volumes))),
            forKey: .spec)
    }
}
