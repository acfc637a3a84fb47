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

    /// Writes the status of a reconciled stack and records its events.
    func write(_ ctx: StackContext, _ c: Contribution, configHash: String, now: Date, log: Logger) async throws -> ReconcileResult {
        let stack = ctx.stack
        let available = collectorAvailability(ctx)
        var conditions = [
            StackCondition(.configValid, true, reason: "Rendered", message: "the collector config is valid"),
            StackCondition(.ready, true, reason: "Reconciled", message: "all objects are applied"),
            available,
            StackCondition(.stalled, false, reason: "Reconciled", message: "nothing keeps the stack from its desired state"),
            available.reason == "Progressing"
                ? StackCondition(.reconciling, true, reason: "CollectorRollout", message: available.message)
                : StackCondition(.reconciling, false, reason: "Reconciled", message: "all objects are applied"),
        ]
        conditions += c.conditions
        // kstatus: whatever holds Ready back for good also stalls the stack.
        if let notReady = c.conditions.last(where: { $0.type == .ready && !$0.holds }) {
            conditions.append(StackCondition(.stalled, true, reason: notReady.reason, message: notReady.message))
            conditions.append(StackCondition(.reconciling, false, reason: notReady.reason, message: "waiting for a change: \(notReady.message)"))
        }
        var status = nextStatus(ctx, conditions: conditions, configHash: configHash, now: now)
        status.collectors = collectorCounts(ctx)
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

    /// The agents' DaemonSet status, as the controller manager reports it.
    func collectorCounts(_ ctx: StackContext) -> CollectorsStatus {
        let ds = store(owned, Kinds.daemonSet)?.get("\(ctx.namespace)/\(ctx.names.collector)")
        let status = ds?.object["status"]
        return CollectorsStatus(desired: status?["desiredNumberScheduled"]?.intValue ?? 0, ready: status?["numberReady"]?.intValue ?? 0)
    }

    func collectorAvailability(_ ctx: StackContext) -> StackCondition {
        let c = collectorCounts(ctx)
        if (c.desired ?? 0) == 0 {
            return StackCondition(.collectorAvailable, false, reason: "NoNodesScheduled", message: "no node runs a collector pod yet")
        }
        if (c.ready ?? 0) < (c.desired ?? 0) {
            return StackCondition(.collectorAvailable, false, reason: "Progressing", message: "\(c.ready ?? 0) of \(c.desired ?? 0) collector pods are ready")
        }
        return StackCondition(.collectorAvailable, true, reason: "AllReady", message: "all \(c.desired ?? 0) collector pods are ready")
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
    if !ctx.spec.networkPolicy {
        c.conditions = [StackCondition(.networkPolicyReady, true, reason: "Disabled", message: "no NetworkPolicy: turned off by the environment profile or spec.networkPolicy.enabled")]
    } else if !externalHosts.isEmpty || healthOpen {
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
        let message = parts.joined(separator: "; ")
        let reason = externalHosts.isEmpty ? "HealthPortOpen" : "ExternalBackendsOpenByPort"
        c.conditions = [StackCondition(.networkPolicyReady, true, reason: reason, message: message)]
        if ctx.stack.status?.condition(ConditionType.networkPolicyReady.rawValue)?.message != message {
            c.events = [StackEvent(type: .warning, reason: externalHosts.isEmpty ? "HealthPortOpen" : "EgressOpenByPort", message: message, log: "network policy: \(message)")]
        }
    } else {
        c.conditions = [StackCondition(.networkPolicyReady, true, reason: "Applied", message: "ingress and egress of the collector pods are limited to their peers and backends")]
    }
    return c
}
