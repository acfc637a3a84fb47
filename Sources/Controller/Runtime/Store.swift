import KubeModel
import Synchronization

/// A thread-safe cache of objects by `namespace/name`, filled by an informer.
public final class Store<T: MetadataBearing>: Sendable {
    /// One cached object. The dictionary holds a reference, not the value: its empty
    /// buckets (a quarter to well over half of them) then cost a pointer each rather than a
    /// whole object (an `ObservabilityStack` is 3 KB inline; BENCHMARKS.md, P3).
    final class Box: Sendable {
        let value: T
        init(_ value: T) { self.value = value }
    }

    struct State {
        var items: [String: Box] = [:]
        /// Index key → the keys of the objects filed under it.
        var index: [String: Set<String>] = [:]
    }

    let state = Mutex(State())
    /// What is kept of each object (client-go's transform functions): the fields the
    /// reconciler reads, large values it only compares as digests.
    let transform: (@Sendable (T) -> T)?
    /// The index keys of an object (client-go's indexers): a reconcile finds its stack's
    /// objects among those filed under its keys instead of scanning every cached object.
    let indexKeys: (@Sendable (T) -> [String])?

    public init(transform: (@Sendable (T) -> T)? = nil, indexKeys: (@Sendable (T) -> [String])? = nil) {
        self.transform = transform
        self.indexKeys = indexKeys
    }

    public func get(_ key: String) -> T? { state.withLock { $0.items[key]?.value } }

    public var all: [T] { state.withLock { $0.items.values.map(\.value) } }

    public var count: Int { state.withLock { $0.items.count } }

    public func filter(_ predicate: (T) -> Bool) -> [T] {
        state.withLock { s in s.items.values.compactMap { predicate($0.value) ? $0.value : nil } }
    }

    /// The objects filed under `indexKey` that match `predicate`; without an index, every
    /// object that matches. The predicate decides: the index only narrows the search.
    public func select(indexKey: String, where predicate: (T) -> Bool) -> [T] {
        guard indexKeys != nil else { return filter(predicate) }
        return state.withLock { s in (s.index[indexKey] ?? []).compactMap { s.items[$0]?.value }.filter(predicate) }
    }

    /// Inserts or replaces, unless the cached copy is newer (a write's response may race
    /// with the watch event of a later change) or the same version (the watch event of
    /// Vigil's own write, already cached from its response: nothing new, nobody to wake).
    @discardableResult
    public func upsert(_ object: T) -> Bool {
        let key = object.metadata.key
        let object = transform?(object) ?? object
        return state.withLock { s in
            if let old = s.items[key]?.value, let a = old.metadata.resourceVersion.flatMap(UInt64.init),
                let b = object.metadata.resourceVersion.flatMap(UInt64.init), a >= b
            {
                return false
            }
            unfile(key, &s)
            s.items[key] = Box(object)
            file(key, object, &s)
            return true
        }
    }

    public func remove(_ key: String) {
        state.withLock { s in
            unfile(key, &s)
            s.items.removeValue(forKey: key)
        }
    }

    /// Replaces the whole content after a list; returns the keys that were removed.
    func replace(with objects: [T]) -> (removed: [T], changed: [T]) {
        state.withLock { s in
            var next = State()
            var changed: [T] = []
            for o in objects {
                let o = transform?(o) ?? o
                let k = o.metadata.key
                if s.items[k]?.value.metadata.resourceVersion != o.metadata.resourceVersion { changed.append(o) }
                next.items[k] = Box(o)
                file(k, o, &next)
            }
            let removed = s.items.filter { next.items[$0.key] == nil }.map(\.value.value)
            s = next
            return (removed, changed)
        }
    }

    private func file(_ key: String, _ object: T, _ s: inout State) {
        guard let indexKeys else { return }
        for i in indexKeys(object) { s.index[i, default: []].insert(key) }
    }

    private func unfile(_ key: String, _ s: inout State) {
        guard let indexKeys, let old = s.items[key]?.value else { return }
        for i in indexKeys(old) {
            s.index[i]?.remove(key)
            if s.index[i]?.isEmpty == true { s.index[i] = nil }
        }
    }
}
