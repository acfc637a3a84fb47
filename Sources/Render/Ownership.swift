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
            Labels.managedBy: managerValue,
            Labels.instance: Naming.shorten(stack.metadata.name ?? ""),
            Labels.name: "opentelemetry-collector",
            Labels.component: component,
            Labels.partOf: "vigil",
            Labels.environment: stack.spec.environment.rawValue,
        ]
    }

    /// The selector for one stack's objects.
    public static func selector(forStack name: String) -> String {
        "\(managedBy)=\(managerValue),\(instance)=\(Naming.shorten(name))"
    }
}
