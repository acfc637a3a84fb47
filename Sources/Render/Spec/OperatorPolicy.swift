import KubeModel

/// What the platform team, not a stack's author, decides: which collector images run, and
/// which tolerations and node selectors a stack may add to its pods. Operator configuration
/// (`vigil run` and `vigil render` flags, Helm values), never stack fields.
public struct OperatorPolicy: Sendable, Hashable {
    /// The image a stack runs when it names none.
    public var defaultImage: String
    /// Images a stack may name besides the default, exactly as written.
    public var allowedImages: [String]
    /// Taint keys a stack may tolerate; `*` allows any toleration, a key-less `Exists`
    /// (which tolerates every taint) included.
    public var allowedTolerationKeys: [String]
    /// Node label keys a stack may select on; `*` allows any.
    public var allowedNodeSelectorKeys: [String]
    /// The PriorityClass of every stack's agents (for example `system-node-critical`), or
    /// none. Stacks cannot choose one: a high priority evicts other tenants' pods.
    public var agentPriorityClass: String?
    /// Labels on every stack's PrometheusRule and ServiceMonitor, so that the cluster's
    /// Prometheus selects them (kube-prometheus-stack's default selectors want
    /// `release: <its release name>`); a stack's own labels are added.
    public var monitoringLabels: [String: String]
    /// Where the cluster's Prometheus, Alertmanager and Grafana run: the collectors' metrics
    /// ports admit this namespace unless a stack names its scrapers, and the default
    /// Prometheus and Alertmanager addresses are there.
    public var monitoringNamespace: String

    public init(
        defaultImage: String = defaultCollectorImage, allowedImages: [String] = [], allowedTolerationKeys: [String] = [],
        allowedNodeSelectorKeys: [String] = OperatorPolicy.standardNodeSelectorKeys, agentPriorityClass: String? = nil,
        monitoringLabels: [String: String] = [:], monitoringNamespace: String = "monitoring"
    ) {
        self.monitoringNamespace = monitoringNamespace
        self.agentPriorityClass = agentPriorityClass
        self.monitoringLabels = monitoringLabels
        self.defaultImage = defaultImage
        self.allowedImages = allowedImages
        self.allowedTolerationKeys = allowedTolerationKeys
        self.allowedNodeSelectorKeys = allowedNodeSelectorKeys
    }

    /// The well-known labels that only pick an operating system or architecture.
    public static let standardNodeSelectorKeys = ["kubernetes.io/os", "kubernetes.io/arch"]

    /// The default: the pinned image only, no tolerations, OS and architecture selectors.
    public static let standard = OperatorPolicy()

    /// Each field of the spec the policy does not allow.
    public func problems(_ spec: StackSpec) -> [FieldError] {
        var errors: [FieldError] = []
        let c = spec.collector
        // A stack picks what runs with the host's logs and metrics mounted: only images the
        // operator allows.
        if let image = c?.image, image != defaultImage, !allowedImages.contains(image) {
            let allowed = ([defaultImage] + allowedImages).joined(separator: ", ")
            errors.append(FieldError("spec.collector.image", "\"\(image.prefix(200))\" is not an image the operator allows (\(allowed)); see --allowed-collector-images"))
        }
        // A toleration lands the privileged agents on nodes the operator keeps apart
        // (control plane, other tenants' pools).
        let anyTaint = allowedTolerationKeys.contains("*")
        for (i, t) in (c?.tolerations ?? []).enumerated() {
            let key = t.key ?? ""
            if key.isEmpty ? !anyTaint : !(anyTaint || allowedTolerationKeys.contains(key)) {
                let what = key.isEmpty ? "tolerates every taint (no key)" : "tolerates taint key \"\(key.prefix(100))\""
                let allowed = allowedTolerationKeys.isEmpty ? "none" : allowedTolerationKeys.joined(separator: ", ")
                errors.append(FieldError("spec.collector.tolerations[\(i)]", "\(what), which the operator does not let stacks add (allowed keys: \(allowed)); see --allowed-toleration-keys"))
            }
        }
        let anyLabel = allowedNodeSelectorKeys.contains("*")
        for key in (c?.nodeSelector ?? [:]).keys.sorted() where !(anyLabel || allowedNodeSelectorKeys.contains(key)) {
            let allowed = allowedNodeSelectorKeys.isEmpty ? "none" : allowedNodeSelectorKeys.joined(separator: ", ")
            errors.append(FieldError("spec.collector.nodeSelector.\(key.prefix(100))", "selects on a node label the operator does not let stacks use (allowed: \(allowed)); see --allowed-node-selector-keys"))
        }
        return errors
    }
}
