import KubeModel
import Render

/// What the caches keep of an owned object, and the same form of a desired one to compare
/// it with. Values that are only ever compared, never read, are kept as their SHA-256
/// digests (BENCHMARKS.md, P3):
/// - a ConfigMap's large values (the collector, Prometheus, Alertmanager and Grafana
///   configs: about 27 KB of a production stack's 47 KB);
/// - every value of the Alertmanager Secret: its `alertmanager.yaml` carries the
///   receivers' credentials, copied from the Secrets the spec names, which Vigil reads
///   when the stack reconciles and otherwise holds no copy of.
public enum CachedForm {
    /// Values up to this many bytes are kept whole.
    public static let largeValueBytes = 256
    static let digestPrefix = "vigil-cached-sha256:"

    /// Which `data` values of an object are kept as digests.
    public enum Digests: Sendable {
        /// Values over `largeValueBytes`.
        case large
        /// Every value. A Secret's values are base64, which never begins like a digest, so
        /// a digest is not digested again.
        case all

        func applies(to v: JSONValue) -> Bool {
            guard case .string(let s) = v else { return false }
            switch self {
            case .large: return s.utf8.count > CachedForm.largeValueBytes
            case .all: return !s.hasPrefix(CachedForm.digestPrefix)
            }
        }
    }

    /// The values an object of `resource` with that component label keeps as digests;
    /// nil when it is kept whole.
    public static func digests(_ resource: ResourceDescriptor, component: String?) -> Digests? {
        if resource == ConfigMap.resource { return .large }
        if resource == Secret.resource, component == AlertmanagerConfig.component { return .all }
        return nil
    }

    /// The store transform for an owned kind. Every kind drops `creationTimestamp`, which
    /// nothing reads or compares (a heap string per object); ConfigMaps and the
    /// Alertmanager Secret also keep their values as `digests` says.
    public static func transform(for resource: ResourceDescriptor) -> @Sendable (Unstructured) -> Unstructured {
        { object in
            var o = object
            o.metadata.creationTimestamp = nil
            guard let rule = digests(resource, component: o.metadata.labels?[Labels.component]) else { return o }
            // Parsed once; written anew only when a value changes.
            let value = o.object
            guard case .object(let data)? = value["data"], data.values.contains(where: rule.applies(to:)) else { return o }
            o.object = digested(value, rule)
            return o
        }
    }

    /// `object` with each `data` value `rule` names replaced by its digest. Applying this
    /// twice changes nothing: a cached object compares with a desired one when both are
    /// passed through it.
    public static func digested(_ object: JSONValue, _ rule: Digests = .large) -> JSONValue {
        guard case .object(var top) = object, case .object(var data)? = top["data"], data.values.contains(where: rule.applies(to:)) else { return object }
        for (k, v) in data where rule.applies(to: v) {
            if case .string(let s) = v { data[k] = .string(digestPrefix + sha256Hex(s.utf8)) }
        }
        top["data"] = .object(data)
        return .object(top)
    }
}

/// How the owned caches are indexed: by the uid of an object's controller (the objects in a
/// stack's namespace), and by the stack its labels name (client Secrets and RoleBindings,
/// which no owner reference can reach). Each reconcile reads its stack's objects from these.
enum OwnedIndex {
    static func keys(_ o: Unstructured) -> [String] {
        var out: [String] = []
        if let ref = o.metadata.controllerOwner { out.append(owner(ref.uid)) }
        if let labels = o.metadata.labels, let ns = labels[Annotations.stackNamespaceLabel], let name = labels[Labels.stack] ?? labels[Labels.instance] {
            out.append("stack:\(ns)/\(name)")
        }
        return out
    }

    static func owner(_ uid: String) -> String { "uid:\(uid)" }

    /// The key of the objects labelled for the stack `namespace/name`.
    static func labelled(namespace: String?, name: String) -> String { "stack:\(namespace ?? "")/\(Naming.shorten(name))" }
}
