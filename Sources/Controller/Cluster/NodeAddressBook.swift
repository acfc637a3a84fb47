import KubeModel
import Synchronization

/// The nodes' IP addresses as the node informer last saw them, and the sorted set a
/// reconcile renders the health port's peers from. Recomputed only when a node's
/// addresses change, not on every status update.
public final class NodeAddressBook: Sendable {
    struct State {
        var byNode: [String: [String]] = [:]
        var all: [String] = []
    }
    let state = Mutex(State())

    public init() {}

    /// How many nodes the informer has seen.
    public var count: Int { state.withLock { $0.byNode.count } }

    /// Every node's addresses, sorted, without repeats.
    public var addresses: [String] { state.withLock { $0.all } }

    /// Applies an informer event; true when the set of addresses changed.
    public func apply(_ event: InformerEvent<NodeAddresses>) -> Bool {
        state.withLock { s in
            switch event {
            case .upserted(let node):
                let name = node.metadata.name ?? ""
                let new = node.addresses.sorted()
                guard s.byNode[name] != new else { return false }
                s.byNode[name] = new
            case .deleted(let node):
                guard s.byNode.removeValue(forKey: node.metadata.name ?? "") != nil else { return false }
            }
            let all = Array(Set(s.byNode.values.joined())).sorted()
            defer { s.all = all }
            return all != s.all
        }
    }
}
