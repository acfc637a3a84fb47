import KubeModel

/// The labels and annotations Vigil stamps on everything it manages.
public enum Labels {
    public static let managedBy = "app.kubernetes.io/managed-by"
    /// The stack an object belongs to (its name, shortened): Vigil's own label for
    /// ownership and selection. `app.kubernetes.io/instance` is not stamped: it is also
    /// Argo CD's default tracking label, and an Argo CD application named like the stack
    /// would take Vigil's objects for its own and prune them.
    public static let stack = Annotations.prefix + "stack"
    /// Read only: objects written by Vigil before `stack` existed, and the selectors of
    /// workloads created then.
    public static let instance = "app.kubernetes.io/instance"
    public static let name = "app.kubernetes.io/name"
    public static let component = "app.kubernetes.io/component"
    public static let partOf = "app.kubernetes.io/part-of"
    public static let environment = Annotations.environmentLabel
    public static let managerValue = "vigil"


    /// The selector that finds every object Vigil manages.
    public static let managedSelector = "\(managedBy)=\(managerValue)"

    /// Sets the labels of one stack's objects in an object's labels.
    static func stamp(_ labels: inout JSONObject, _ ctx: StackContext, component: String) {
        let pairs: KeyValuePairs<String, String> = [
            Labels.managedBy: managerValue,
            Labels.stack: Naming.shorten(ctx.name),
            Labels.name: "opentelemetry-collector",
            Labels.component: component,
            Labels.partOf: "vigil",
            Labels.environment: ctx.spec.environment.rawValue,
        ]
        for (key, value) in pairs { labels[key] = .string(value) }
    }

    /// The selector for one stack's objects.
    public static func selector(forStack name: String) -> String {
        "\(managedBy)=\(managerValue),\(stack)=\(Naming.shorten(name))"
    }
}
