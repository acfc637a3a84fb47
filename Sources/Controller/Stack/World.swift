import KubeModel
import Render

/// The second sub-reconciler: everything a reconcile reads of the cluster besides the
/// user's Secrets, read once, from the caches where Vigil has them.
public struct World: Sendable {
    /// Live objects whose controller is this stack, and its client Secrets, keyed like
    /// `DesiredObject.key`.
    public var owned: [String: Unstructured]
    /// Each declared client in a watched namespace, with its live Secret (nil if absent).
    public var clientSecrets: [String: Unstructured?]
    /// The declared clients Vigil may write to (in a watched namespace), in spec order.
    public var writableClients: [ClientRef]
    /// Namespaces of declared clients that Vigil does not watch.
    public var unwatched: [String]
    /// Declared clients whose namespace has not accepted the stack (nothing is written
    /// there until it does).
    public var pending: [ClientRef] = []
    /// Pods that read one of the stack's client Secrets (writable clients only).
    public var consumers: [PodSecretUse] = []
    /// The agents' DaemonSet, as cached.
    public var daemonSet: Unstructured?
    /// The nodes' addresses, the health port's peers when the spec gives no `nodeCIDRs`.
    public var nodeAddresses: [String]
    /// The Prometheus Operator's kinds the cluster serves, as last discovered.
    public var monitoringKinds: Set<String>
}

extension World {
    /// The roles whose live workload was created with the `app.kubernetes.io/instance`
    /// selector of earlier versions: a selector cannot change, so it is kept.
    func legacySelectors(_ ctx: StackContext) -> Set<CollectorRole> {
        let workloads: [(CollectorRole, String)] = [
            (.agent, "\(Kinds.daemonSet.plural)/\(ctx.namespace)/\(ctx.names.collector)"), (.gateway, "\(Kinds.deployment.plural)/\(ctx.namespace)/\(ctx.names.gateway)"),
        ]
        return Set(workloads.compactMap { role, key in owned[key]?.object["spec"]?["selector"]?["matchLabels"]?[Labels.instance] != nil ? role : nil })
    }
}

/// Reads the world of one stack.
struct WorldReader: Sendable {
    let owned: [OwnedKind]
    let watchNamespace: String?
    let monitoringKinds: @Sendable () -> Set<String>
    let nodeAddresses: @Sendable () -> [String]
    /// The stacks a namespace accepts (`<namespace>/<name>`), from its annotation; nil when
    /// the namespace is not known (yet).
    var acceptedStacks: @Sendable (String) -> Set<String>? = { _ in nil }
    /// The pods of a namespace that read a Secret of that name.
    var podsReading: @Sendable (_ namespace: String, _ secret: String) -> [PodSecretUse] = { _, _ in [] }

    func read(_ ctx: StackContext) -> World {
        let secrets = store(owned, Secret.resource)
        var clientSecrets: [String: Unstructured?] = [:]
        var writable: [ClientRef] = []
        var unwatched: [String] = []
        var pending: [ClientRef] = []
        for c in ctx.spec.clients {
            guard watchNamespace == nil || c.namespace == watchNamespace else {
                unwatched.append(c.namespace)
                continue
            }
            // Another namespace must consent before anything is written there.
            if c.namespace != ctx.namespace, acceptedStacks(c.namespace)?.contains(ctx.key) != true {
                pending.append(c)
                continue
            }
            writable.append(c)
            // Only a Secret that is this stack's counts as the client's.
            let live = secrets?.get("\(c.namespace)/\(ctx.names.otlpClient)").flatMap { Ownership.owns(ctx, $0, resource: Secret.resource) ? $0 : nil }
            clientSecrets[c.name] = .some(live)
        }
        return World(
            owned: ownedObjects(ctx),
            clientSecrets: clientSecrets,
            writableClients: writable,
            unwatched: unwatched,
            pending: pending,
            consumers: writable.flatMap { podsReading($0.namespace, ctx.names.otlpClient) },
            daemonSet: store(owned, Kinds.daemonSet)?.get("\(ctx.namespace)/\(ctx.names.collector)"),
            nodeAddresses: ctx.spec.networkPolicy ? nodeAddresses() : [],
            monitoringKinds: monitoringKinds()
        )
    }

    /// Live objects whose controller is this stack, and its client Secrets.
    func ownedObjects(_ ctx: StackContext) -> [String: Unstructured] {
        var result: [String: Unstructured] = [:]
        for (resource, o) in crossNamespaceObjects(of: ctx.stack, in: owned) {
            result["\(resource.plural)/\(o.metadata.namespace ?? "")/\(o.metadata.name ?? "")"] = o
        }
        guard let uid = ctx.uid else { return result }
        for kind in owned {
            for o in kind.store.select(indexKey: OwnedIndex.owner(uid), where: { $0.metadata.namespace == ctx.namespace && $0.metadata.controllerOwner?.uid == uid }) {
                result["\(kind.resource.plural)/\(o.metadata.namespace ?? "")/\(o.metadata.name ?? "")"] = o
            }
        }
        return result
    }
}

/// A kind Vigil creates for stacks, with the cache of the live objects.
public struct OwnedKind: Sendable {
    public var resource: ResourceDescriptor
    public var store: Store<Unstructured>
    public init(resource: ResourceDescriptor, store: Store<Unstructured>) {
        self.resource = resource
        self.store = store
    }
}

/// The cache of one owned kind.
func store(_ owned: [OwnedKind], _ resource: ResourceDescriptor) -> Store<Unstructured>? {
    owned.first { $0.resource == resource }?.store
}

/// What a stack keeps in other namespaces, found by labels: client Secrets and the agents'
/// RoleBindings (those in its own namespace count too when they carry no owner reference).
func crossNamespaceObjects(of stack: ObservabilityStack, in owned: [OwnedKind]) -> [(ResourceDescriptor, Unstructured)] {
    [Secret.resource, CollectorRBAC.resource].flatMap { r in labelledObjects(of: stack, in: store(owned, r)).map { (r, $0) } }
}

func labelledObjects(of stack: ObservabilityStack, in store: Store<Unstructured>?) -> [Unstructured] {
    store?.select(indexKey: OwnedIndex.labelled(namespace: stack.metadata.namespace, name: stack.metadata.name ?? "")) {
        $0.metadata.controllerOwner == nil
            && Ownership.labelled($0.metadata.labels ?? [:], namespace: stack.metadata.namespace, name: stack.metadata.name ?? "", uid: stack.metadata.uid)
    } ?? []
}
