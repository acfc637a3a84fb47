import KubeModel

/// One stack as every builder and sub-reconciler sees it: who it is (name, namespace,
/// uid), its spec resolved once, and the names of everything it becomes. Builders take
/// this, never the raw stack, so the spec is resolved once per render and per reconcile.
public struct StackContext: Sendable {
    /// The stack as read (metadata, raw spec, status).
    public let stack: ObservabilityStack
    public let name: String
    /// The stack's namespace; `default` for a stack file that names none.
    public let namespace: String
    /// Set on stacks read from the API server; nil offline (`vigil render`), where no
    /// owner reference is written.
    public let uid: String?
    public let spec: ResolvedSpec
    public let names: StackNames
    /// The roles whose live workload selects its pods by `app.kubernetes.io/instance`, as
    /// Vigil did before it had a label of its own: a workload's selector cannot change, so
    /// theirs stays (and their pods keep that label) until the workload is created again.
    public var legacySelectors: Set<CollectorRole> = []
    /// The namespaces whose pods the stack serves, sorted: its own and its clients'. The
    /// reconciler narrows it to the client namespaces Vigil may write to (watched, and
    /// consenting); offline it is every declared one.
    public var servedNamespaces: [String]

    public init(_ stack: ObservabilityStack) {
        self.init(stack, spec: ResolvedSpec(stack.spec, namespace: stack.metadata.namespace ?? "default"))
    }

    public init(_ stack: ObservabilityStack, spec: ResolvedSpec) {
        self.stack = stack
        name = stack.metadata.name ?? ""
        namespace = stack.metadata.namespace ?? "default"
        uid = stack.metadata.uid
        self.spec = spec
        names = StackNames(stack: name, namespace: namespace)
        servedNamespaces = PodLogs.namespaces(namespace: namespace, clients: spec.clients)
    }

    /// The same stack as written back by the API server (its finalizers, resourceVersion):
    /// the resolved spec and what the reconcile learnt of the cluster stay.
    public func replacingStack(_ stack: ObservabilityStack) -> StackContext {
        var ctx = StackContext(stack, spec: spec)
        ctx.legacySelectors = legacySelectors
        ctx.servedNamespaces = servedNamespaces
        return ctx
    }

    /// The spec as written, for fields that have no default to resolve.
    public var raw: StackSpec { stack.spec }
    /// Whether the stack runs a gateway: replicas asked for, and traces to sample whole
    /// (a Tempo exporter).
    public var hasGateway: Bool { spec.gatewayReplicas > 0 && raw.exporters?.tempo != nil }
    /// Whether Vigil keeps a CA for the stack: for its ingest certificate (SelfSigned) or
    /// for the agent-to-gateway mTLS.
    public var needsStackCA: Bool { spec.issuesCertificates || hasGateway }
    /// `namespace/name`, the work-queue key.
    public var key: String { "\(namespace)/\(name)" }
}
