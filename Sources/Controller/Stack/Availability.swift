import KubeModel
import Render

/// Whether the collector runs, from its workloads' status as Kubernetes' controllers report
/// it: the agents' DaemonSet and, with a gateway, its Deployment. Pure: the refusals (what
/// the controllers could not create, and why) are read by the caller.
struct CollectorHealth: Sendable, Hashable {
    enum State: String, Sendable {
        /// The DaemonSet (or the gateway's Deployment) has no status from its controller yet.
        case pending = "Pending"
        /// No node runs a collector pod (none matches, or the cluster has none): nothing is
        /// missing, nothing serves either. Ready does not wait for it.
        case noNodes = "NoNodesScheduled"
        /// Pods the controller could not create: refused by admission (Pod Security, a
        /// PodSecurityPolicy, a ResourceQuota, a webhook).
        case refused = "PodsRefused"
        /// Fewer pods available than the workload needs to serve.
        case unavailable = "Progressing"
        /// Serving, with a rollout still under way.
        case rollingOut = "RollingOut"
        case available = "AllReady"
    }

    var state: State
    var message: String
    var counts: CollectorsStatus

    /// CollectorAvailable holds: enough pods serve (a rollout may still be going on).
    var holds: Bool { state == .available || state == .rollingOut }
    /// Ready waits for this: the collector is wanted somewhere and does not serve there.
    var holdsReadyBack: Bool { state == .pending || state == .refused || state == .unavailable }
    /// kstatus: Vigil (or a workload controller) is still moving towards the desired state.
    var reconciling: Bool { state == .pending || state == .unavailable || state == .rollingOut }

    var condition: StackCondition { StackCondition(.collectorAvailable, holds, reason: state.rawValue, message: message) }

    /// Whether the DaemonSet may miss pods, so that its controller's events are worth
    /// reading (`check`), and worth reading again soon if they say nothing yet (`recheck`:
    /// the controller records a refusal after the fact). A refused creation ends the
    /// controller's sync before it writes status: a DaemonSet whose every pod is refused
    /// keeps the status it had (none at all, or zero pods wanted). So: no status yet, fewer
    /// pods than wanted, or none wanted while the cluster has nodes (`nodes` is nil when
    /// Vigil cannot count them: then the events are read, not awaited).
    static func mayMissPods(_ ds: Unstructured?, nodes: Int?) -> (check: Bool, recheck: Bool) {
        guard let ds else { return (false, false) }
        guard let status = ds.object["status"], status["observedGeneration"] != nil else { return (true, true) }
        let desired = status["desiredNumberScheduled"]?.intValue ?? 0
        if (status["currentNumberScheduled"]?.intValue ?? 0) < desired { return (true, true) }
        guard desired == 0 else { return (false, false) }
        guard let nodes else { return (true, false) }
        return (nodes > 0, nodes > 0)
    }

    /// The assessment. `daemonSet` and `gateway` are the live workloads (nil: not applied
    /// yet); `hasGateway` says whether the stack runs one; `refusal` is the DaemonSet
    /// controller's latest `FailedCreate` message (its events: a DaemonSet has no condition
    /// for it; a Deployment's `ReplicaFailure` condition carries its own).
    static func assess(daemonSet: Unstructured?, gateway: Unstructured?, hasGateway: Bool, refusal: String? = nil) -> CollectorHealth {
        let status = daemonSet?.object["status"]
        let desired = status?["desiredNumberScheduled"]?.intValue ?? 0
        let current = status?["currentNumberScheduled"]?.intValue ?? 0
        let ready = status?["numberReady"]?.intValue ?? 0
        let available = status?["numberAvailable"]?.intValue ?? 0
        let updated = status?["updatedNumberScheduled"]?.intValue ?? 0
        let counts = CollectorsStatus(desired: desired, ready: ready)
        func health(_ state: State, _ message: String) -> CollectorHealth { CollectorHealth(state: state, message: message, counts: counts) }

        let observed = status?["observedGeneration"]?.intValue
        var refused: [String] = []
        if let message = refusal, observed == nil || desired == 0 || current < desired || available < desired {
            refused.append((current < desired ? "\(desired - current) of \(desired) agent pods" : "agent pods") + " cannot be created: \(message)")
        }
        let gatewayPart = hasGateway ? Self.gateway(gateway) : nil
        if case .refused(let message)? = gatewayPart { refused.append(message) }
        if !refused.isEmpty { return health(.refused, refused.joined(separator: "; ")) }
        guard let observed else { return health(.pending, "the DaemonSet controller has not reported the collector yet") }
        if desired == 0 {
            return health(.noNodes, "no node runs a collector pod (no node matches the DaemonSet's node selector and tolerations)")
        }
        // One pod may be down at a time (the DaemonSet's maxUnavailable); with a single
        // node that pod is the only one, and must serve.
        if available < max(1, desired - 1) {
            return health(.unavailable, "\(ready) of \(desired) collector pods are ready")
        }
        switch gatewayPart {
        case .pending(let message)?: return health(.pending, message)
        case .unavailable(let message)?: return health(.unavailable, message)
        default: break
        }
        if observed < daemonSet?.metadata.generation ?? 0 || updated < desired || available < desired {
            return health(.rollingOut, "\(available) of \(desired) collector pods are available, \(updated) run the current template")
        }
        if case .rollingOut(let message)? = gatewayPart { return health(.rollingOut, message) }
        return health(.available, "all \(desired) collector pods are ready" + (hasGateway ? ", and the gateway is available" : ""))
    }

    enum GatewayPart: Sendable, Hashable {
        case pending(String), refused(String), unavailable(String), rollingOut(String), available
    }

    /// The gateway's Deployment, from the conditions the deployment controller sets
    /// (`ReplicaFailure` carries its ReplicaSet's refusal).
    static func gateway(_ deployment: Unstructured?) -> GatewayPart {
        guard let deployment, let status = deployment.object["status"], let observed = status["observedGeneration"]?.intValue else {
            return .pending("the deployment controller has not reported the gateway yet")
        }
        let conditions = status["conditions"]?.arrayValue ?? []
        func condition(_ type: String) -> JSONValue? { conditions.first { $0["type"]?.stringValue == type } }
        if let failure = condition("ReplicaFailure"), failure["status"]?.stringValue == "True" {
            return .refused("gateway pods cannot be created: \(failure["message"]?.stringValue ?? "no reason given")")
        }
        let wanted = deployment.object["spec"]?["replicas"]?.intValue ?? 1
        let available = status["availableReplicas"]?.intValue ?? 0
        if condition("Available")?["status"]?.stringValue != "True" {
            return .unavailable("\(available) of \(wanted) gateway pods are available")
        }
        if observed < deployment.metadata.generation ?? 0 || (status["updatedReplicas"]?.intValue ?? 0) < wanted {
            return .rollingOut("the gateway is rolling out: \(status["updatedReplicas"]?.intValue ?? 0) of \(wanted) pods run the current template")
        }
        return .available
    }
}
