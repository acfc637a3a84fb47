import KubeModel

/// The labels and annotations Vigil stamps on everything it manages.
public enum Labels {
    public static let managedBy = "app.kubernetes.io/managed-by"
    public static let instance = "app.kubernetes.io/instance"
    public static let name = "app.kubernetes.io/name"
    public static let component = "app.kubernetes.io/component"
    public static let partOf = "app.kubernetes.io/part-of"
    public static let environment = "observability.vigil.dev/environment"
    public static let managerValue = "vigil"

    /// Hash of the desired object as Vigil last applied it: a changed desired object
    /// is re-applied even where the live object still holds every desired field.
    public static let desiredHashAnnotation = "observability.vigil.dev/desired-hash"

    /// The selector that finds every object Vigil manages.
    public static let managedSelector = "\(managedBy)=\(managerValue)"

    /// The labels of one stack's objects.
    public static func forStack(_ stack: ObservabilityStack, component: String) -> [String: String] {
        [
            managedBy: managerValue,
            instance: Naming.shorten(stack.metadata.name ?? ""),
            name: "opentelemetry-collector",
            component: component,
            partOf: "vigil",
            environment: stack.spec.environment.rawValue,
        ]
    }

    /// The selector for one stack's objects.
    public static func selector(forStack name: String) -> String {
        "\(managedBy)=\(managerValue),\(instance)=\(Naming.shorten(name))"
    }
}

/// Stamps labels, namespace and the controller owner reference on a desired object, in one
/// place, so every object Vigil makes is found, owned and garbage-collected the same way.
public func stamp<T: KubeResource>(_ object: inout T, for stack: ObservabilityStack, component: String) {
    object.stampTypeMeta()
    object.metadata.namespace = stack.metadata.namespace
    var labels = object.metadata.labels ?? [:]
    labels.merge(Labels.forStack(stack, component: component)) { _, new in new }
    object.metadata.labels = labels
    object.metadata.ownerReferences = [
        OwnerReference(
            apiVersion: ObservabilityStack.resource.apiVersion,
            kind: ObservabilityStack.resource.kind,
            name: stack.metadata.name ?? "",
            uid: stack.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true
        )
    ]
}
