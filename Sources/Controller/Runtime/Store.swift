import KubeModel
import Synchronization

/// A thread-safe cache of objects by `namespace/name`, filled by an informer.
public final class Store<T: MetadataBearing>: Sendable {
    let items = Mutex<[String: T]>([:])

    public init() {}

    public func get(_ key: String) -> T? { items.withLock { $0[key] } }

    public var all: [T] { items.withLock { Array($0.values) } }

    public var count: Int { items.withLock { $0.count } }

    public func filter(_ predicate: (T) -> Bool) -> [T] {
        items.withLock { $0.values.filter(predicate) }
    }

    /// Inserts or replaces, unless the cached copy is newer (a write's response may race
    /// with the watch event of a later change) or the same version (the watch event of
    /// Vigil's own write, already cached from its response: nothing new, nobody to wake).
    @discardableResult
    public func upsert(_ object: T) -> Bool {
        let key = object.metadata.key
        return items.withLock { dict in
            if let old = dict[key], let a = old.metadata.resourceVersion.flatMap(UInt64.init),
                let b = object.metadata.resourceVersion.flatMap(UInt64.init), a >= b
            {
                return false
            }
            dict[key] = object
            return true
        }
    }

    public func remove(_ key: String) { _ = items.withLock { $0.removeValue(forKey: key) } }

    /// Replaces the whole content after a list; returns the keys that were removed.
    func replace(with objects: [T]) -> (removed: [T], changed: [T]) {
        items.withLock { dict in
            var next: [String: T] = [:]
            var changed: [T] = []
            for o in objects {
                let k = o.metadata.key
                if dict[k]?.metadata.resourceVersion != o.metadata.resourceVersion { changed.append(o) }
                next[k] = o
            }
            let removed = dict.filter { next[$0.key] == nil }.map(\.value)
            dict = next
            return (removed, changed)
        }
    }
}
