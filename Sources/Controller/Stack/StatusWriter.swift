import Foundation
import KubeModel
import Logging
import Render

/// The last sub-reconciler: turns the contributions into the stack's status, writes it
/// only when it changed, and records events (a transition's, and the others').
struct StatusWriter: Sendable {
    let stacks: Store<ObservabilityStack>
    let owned: [OwnedKind]
    let writer: any ClusterWriter
    let events: EventRecorder
    /// How many nodes the cluster has; nil when Vigil cannot tell.
    var nodeCount: @Sendable () -> Int? = { nil }

    /// Writes the status of a reconciled stack and records its events.
    func write(_ ctx: StackContext, _ c: Contribution, configHash: String, now: Date, log: Logger) async throws -> ReconcileResult {
        let stack = ctx.stack
        let (health, recheck) = await collectorHealth(ctx, now: now, log: log)
        var c = c
        if let recheck { c.requeueAfter = min(c.requeueAfter ?? recheck, recheck) }
        // Pods refused by admission: a Warning when it begins or its reason changes.
        if health.state == .refused, stack.status?.condition(ConditionType.collectorAvailable.rawValue)?.message != health.message {
            c.events.append(StackEvent(type: .warning, reason: "PodsRefused", message: health.message, log: "collector: \(health.message)"))
        }
        var conditions = [
            StackCondition(.configValid, true, reason: "Rendered", message: "the collector config is valid"),
            health.holdsReadyBack
                ? StackCondition(.ready, false, reason: health.state == .refused ? "PodsRefused" : "CollectorUnavailable", message: "all objects are applied; \(health.message)")
                : StackCondition(.ready, true, reason: "Reconciled", message: "all objects are applied" + (health.state == .noNodes ? "; \(health.message)" : "")),
            health.condition,
            health.state == .refused
                ? StackCondition(.stalled, true, reason: "PodsRefused", message: health.message)
                : StackCondition(.stalled, false, reason: "Reconciled", message: "nothing keeps the stack from its desired state"),
            health.reconciling
                ? StackCondition(.reconciling, true, reason: "CollectorRollout", message: health.message)
                : StackCondition(.reconciling, false, reason: "Reconciled", message: "all objects are applied"),
        ]
        conditions += c.conditions
        // kstatus: whatever holds Ready back for good also stalls the stack.
        if let notReady = c.conditions.last(where: { $0.type == .ready && !$0.holds }) {
            conditions.append(StackCondition(.stalled, true, reason: notReady.reason, message: notReady.message))
            conditions.append(StackCondition(.reconciling, false, reason: notReady.reason, message: "waiting for a change: \(notReady.message)"))
        }
        var status = nextStatus(ctx, conditions: conditions, configHash: configHash, now: now)
        status.collectors = health.counts
        status.certificate = c.certificate
        status.credentials = c.credentials
        if try await writeStatus(status, of: stack), stack.status?.condition(ConditionType.ready.rawValue)?.isTrue != true,
            status.condition(ConditionType.ready.rawValue)?.isTrue == true
        {
            await events.record(stack, type: .normal, reason: "Reconciled", message: "all objects are applied")
        }
        await emit(stack, c.events, log: log)
        return c.result
    }

    /// Logs and records events of a stack.
    func emit(_ stack: ObservabilityStack, _ list: [StackEvent], log: Logger) async {
        for event in list {
            switch event.type {
            case .warning: log.warning("\(event.log)", metadata: event.logMetadata.mapValues { "\($0)" })
            case .normal: log.info("\(event.log)", metadata: event.logMetadata.mapValues { "\($0)" })
            }
            await events.record(stack, type: event.type, reason: event.reason, message: event.message)
        }
    }

    /// Records why a stack cannot be applied, once (status and a Warning event on the
    /// transition), and touches nothing else.
    func reject(_ ctx: StackContext, _ refusal: Refusal, now: Date, log: Logger) async throws -> ReconcileResult {
        let stack = ctx.stack
        let status = nextStatus(
            ctx,
            conditions: [
                StackCondition(refusal.condition, false, reason: refusal.conditionReason ?? refusal.reason, message: refusal.message),
                StackCondition(.ready, false, reason: refusal.reason, message: refusal.ready),
                StackCondition(.stalled, true, reason: refusal.reason, message: refusal.message),
                StackCondition(.reconciling, false, reason: refusal.reason, message: "waiting for a change: \(refusal.ready)"),
            ],
            configHash: stack.status?.configHash, now: now
        )
        if try await writeStatus(status, of: stack) {
            log.warning("cannot apply the stack", metadata: ["reason": "\(refusal.reason)", "message": "\(refusal.message)"])
            await events.record(stack, type: .warning, reason: refusal.reason, message: refusal.message)
        }
        return refusal.requeueAfter.map { .requeueAfter($0) } ?? .terminal(refusal.message)
    }

    /// The collector's health, and when to look again: soon while the DaemonSet misses pods
    /// for a reason not known yet (its controller records the refusal after its status), and
    /// now and then while they are refused (a fix shows as new pods, which wake the stack).
    func collectorHealth(_ ctx: StackContext, now: Date, log: Logger) async -> (CollectorHealth, recheck: Double?) {
        let ds = store(owned, Kinds.daemonSet)?.get("\(ctx.namespace)/\(ctx.names.collector)")
        let gateway = ctx.hasGateway ? store(owned, Kinds.deployment)?.get("\(ctx.namespace)/\(ctx.names.gateway)") : nil
        var refusal: String? = nil
        let missing = CollectorHealth.mayMissPods(ds, nodes: nodeCount())
        if missing.check {
            do {
                refusal = Self.latestRefusal(
                    try await writer.events(involving: Kinds.daemonSet.kind, namespace: ctx.namespace, name: ctx.names.collector, reason: "FailedCreate"),
                    uid: ds?.metadata.uid, now: now)
            } catch {
                log.warning("cannot read the collector DaemonSet's events", metadata: ["error": "\(error)"])
            }
        }
        let health = CollectorHealth.assess(daemonSet: ds, gateway: gateway, hasGateway: ctx.hasGateway, refusal: refusal)
        let recheck: Double? = health.state == .refused ? 60 : missing.recheck ? 10 : nil
        return (health, recheck)
    }

    /// The newest `FailedCreate` message on the DaemonSet (this one: a DaemonSet deleted and
    /// created again keeps its name), recorded in the last half hour: the controller retries
    /// a refused pod with a backoff of up to about 17 minutes, and records each failure.
    static func latestRefusal(_ events: [Event], uid: String?, now: Date) -> String? {
        let recent = events.compactMap { e -> (Date, String)? in
            if let uid, let theirs = e.involvedObject.uid, theirs != uid { return nil }
            guard let text = e.lastTimestamp ?? e.firstTimestamp, let at = try? Date(text, strategy: .iso8601), now.timeIntervalSince(at) < 1800 else { return nil }
            return (at, e.message ?? "")
        }
        guard let newest = recent.max(by: { $0.0 < $1.0 }) else { return nil }
        // "Error creating: pods "x" is forbidden: …": the reason is what follows the prefix.
        return newest.1.hasPrefix("Error creating: ") ? String(newest.1.dropFirst("Error creating: ".count)) : newest.1
    }

    /// The status to write: conditions keep their transition time while their status holds.
    func nextStatus(_ ctx: StackContext, conditions: [StackCondition], configHash: String?, now: Date) -> StackStatus {
        let old = ctx.stack.status
        var status = old ?? StackStatus()
        let time = now.formatted(.iso8601)
        let gen = ctx.stack.metadata.generation
        // Only Vigil's own condition types: others' (conditions are a map by type) stay
        // theirs, untouched by Vigil's apply.
        var merged = (old?.conditions ?? []).filter { ConditionType.all.contains($0.type) }
        for c in conditions {
            let s = c.holds ? ConditionStatus.true.rawValue : ConditionStatus.false.rawValue
            let previous = merged.first { $0.type == c.type.rawValue }
            let transition = previous?.status == s ? previous!.lastTransitionTime : time
            let condition = Condition(type: c.type.rawValue, status: s, reason: c.reason, message: c.message, lastTransitionTime: transition, observedGeneration: gen)
            if let i = merged.firstIndex(where: { $0.type == c.type.rawValue }) { merged[i] = condition } else { merged.append(condition) }
        }
        status.conditions = merged.sorted { $0.type < $1.type }
        status.observedGeneration = gen
        status.configHash = configHash
        let tls = ctx.spec.tlsEnabled
        status.endpoints = EndpointsStatus(
            grpc: ctx.names.otlpEndpoint(tls: tls, port: CollectorPorts.otlpGRPC), http: ctx.names.otlpEndpoint(tls: tls, port: CollectorPorts.otlpHTTP)
        )
        return status
    }

    /// Writes status if it differs from the cached one; returns whether it wrote.
    func writeStatus(_ status: StackStatus, of stack: ObservabilityStack) async throws -> Bool {
        // Compared without others' conditions, which Vigil neither writes nor owns.
        var current = stack.status
        let own = current?.conditions?.filter { ConditionType.all.contains($0.type) }
        current?.conditions = own
        if current == status { return false }
        let live = try await writer.applyStatus(status, of: stack)
        stacks.upsert(live)
        return true
    }
}

/// The NetworkPolicy's part of the status: whether it is on, and a warning (once, when it
/// changes) where a backend can be opened by port only, or the health port is open because
/// neither `nodeCIDRs` nor any Node's address is known.
func networkPolicyContribution(_ ctx: StackContext, nodeAddresses: [String]) -> Contribution {
    var c = Contribution()
    let externalHosts = NetworkPolicyRender.externalHosts(ctx)
    let healthOpen = NetworkPolicyRender.healthPortOpen(ctx, nodeAddresses: nodeAddresses)
    let apiOpen = NetworkPolicyRender.apiServerOpen(ctx, nodeAddresses: nodeAddresses)
    if !ctx.spec.networkPolicy {
        c.conditions = [StackCondition(.networkPolicyReady, true, reason: "Disabled", message: "no NetworkPolicy: turned off by the environment profile or spec.networkPolicy.enabled")]
    } else if !externalHosts.isEmpty || healthOpen || apiOpen {
        var parts: [String] = []
        if !externalHosts.isEmpty {
            let egressTo = ctx.raw.networkPolicy?.egressTo ?? []
            let to = egressTo.isEmpty ? "to every address (set spec.networkPolicy.egressTo to their CIDRs to narrow it)" : "to \(egressTo.joined(separator: ", "))"
            parts.append("a NetworkPolicy cannot name a host: egress to \(externalHosts.joined(separator: ", ")) is open by port only, \(to)")
        }
        if healthOpen {
            parts.append(
                "no node address is known (no Node objects readable) and spec.networkPolicy.nodeCIDRs is not set: the health port \(CollectorPorts.health) is open to every peer"
            )
        }
        if apiOpen {
            parts.append(
                "k8sattributes reaches the API server, whose address is not known (no apiServerCIDRs, nodeCIDRs or Node addresses): ports \(NetworkPolicyRender.apiServerPorts.map(String.init).joined(separator: " and ")) are open to every address (set spec.networkPolicy.apiServerCIDRs)"
            )
        }
        let message = parts.joined(separator: "; ")
        let reason = !externalHosts.isEmpty ? "ExternalBackendsOpenByPort" : healthOpen ? "HealthPortOpen" : "APIServerOpenByPort"
        c.conditions = [StackCondition(.networkPolicyReady, true, reason: reason, message: message)]
        if ctx.stack.status?.condition(ConditionType.networkPolicyReady.rawValue)?.message != message {
            c.events = [StackEvent(type: .warning, reason: !externalHosts.isEmpty ? "EgressOpenByPort" : healthOpen ? "HealthPortOpen" : "APIServerOpenByPort", message: message, log: "network policy: \(message)")]
        }
    } else {
        c.conditions = [StackCondition(.networkPolicyReady, true, reason: "Applied", message: "ingress and egress of the collector pods are limited to their peers and backends")]
    }
    return c
}
