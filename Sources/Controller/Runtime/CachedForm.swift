import KubeModel
import Render

/// What the caches keep of an owned object, and the same form of a desired one to compare
/// it with. A ConfigMap's large values (the collector, Prometheus, Alertmanager and Grafana
/// configs: about 27 KB of a production stack's 47 KB) are only ever compared, never read,
/// so they are kept as their SHA-256 digests (BENCHMARKS.md, P3).
public enum CachedForm {
    /// Values up to this many bytes are kept whole.
    public static let largeValueBytes = 256
    static let digestPrefix = "vigil-cached-sha256:"

    /// The store transform for an owned kind. Every kind drops `creationTimestamp`, which
    /// nothing reads or compares (a heap string per object); ConfigMaps also keep their large
    /// values as digests.
    public static func transform(for resource: ResourceDescriptor) -> @Sendable (Unstructured) -> Unstructured {
        let digests = resource == ConfigMap.resource
        return { object in
            var o = object
            o.metadata.creationTimestamp = nil
            guard digests else { return o }
            // Parsed once; written anew only when a value changes.
            let value = o.object
            guard case .object(let data)? = value["data"], data.values.contains(where: isLarge) else { return o }
            o.object = digested(value)
            return o
        }
    }

    /// `object` with each large `data` value replaced by its digest. A digest is short, so
    /// applying this twice changes nothing: a cached object compares with a desired one when
    /// both are passed through it.
    public static func digested(_ object: JSONValue) -> JSONValue {
        guard case .object(var top) = object, case .object(var data)? = top["data"], data.values.contains(where: isLarge) else { return object }
        for (k, v) in data where isLarge(v) {
            if case .string(let s) = v { data[k] = .string(digestPrefix + sha256Hex(s.utf8)) }
        }
        top["data"] = .object(data)
        return .object(top)
    }

    static func isLarge(_ v: JSONValue) -> Bool {
        if case .string(let s) = v { return s.utf8.count > largeValueBytes }
        return false
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
