import Foundation
import KubeModel
import Logging
import Synchronization

/// Records Kubernetes events on stacks, as `kubectl describe` shows them. Failures to
/// record are logged and never fail a reconcile. Callers emit events on transitions only,
/// so a steady state records nothing.
public final class EventRecorder: Sendable {
    public enum EventType: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    let writer: (any ClusterWriter)?
    let component: String
    let now: @Sendable () -> Date
    let logger: Logger

    public init(writer: (any ClusterWriter)?, component: String = "vigil", now: @escaping @Sendable () -> Date = { Date() }, logger: Logger) {
        self.writer = writer
        self.component = component
        self.now = now
        self.logger = logger
    }

    /// Events recorded lately, by object, type, reason and message: a repeat within
    /// `dedupWindow` counts on the existing event (`count`, `lastTimestamp`), as kubectl
    /// shows it (`x5 over 10m`), instead of adding one.
    let recent = Mutex<[String: (name: String, count: Int, first: Date)]>([:])
    let dedupWindow: TimeInterval = 600

    public func record(_ stack: ObservabilityStack, type: EventType, reason: String, message: String) async {
        guard let writer else { return }
        let time = now().formatted(.iso8601)
        let message = String(message.prefix(1024))
        let key = [stack.metadata.uid ?? "", stack.metadata.namespace ?? "", stack.metadata.name ?? "", type.rawValue, reason, message].joined(separator: "\u{1}")
        let at = now()
        let repeat_ = recent.withLock { r -> (name: String, count: Int)? in
            if r.count > 4096 { r = r.filter { at.timeIntervalSince($0.value.first) < dedupWindow } }
            guard let e = r[key], at.timeIntervalSince(e.first) < dedupWindow else { return nil }
            r[key] = (e.name, e.count + 1, e.first)
            return (e.name, e.count + 1)
        }
        if let repeat_, let ns = stack.metadata.namespace {
            do {
                try await writer.bumpEvent(namespace: ns, name: repeat_.name, count: repeat_.count, lastTimestamp: time)
                return
            } catch {
                // Gone (events expire): record it afresh below.
                _ = recent.withLock { $0.removeValue(forKey: key) }
            }
        }
        let suffix = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let event = Event(
            metadata: ObjectMeta(name: "\(stack.metadata.name ?? "stack").\(suffix)", namespace: stack.metadata.namespace),
            involvedObject: ObjectReference(
                apiVersion: ObservabilityStack.resource.apiVersion, kind: ObservabilityStack.resource.kind,
                namespace: stack.metadata.namespace, name: stack.metadata.name, uid: stack.metadata.uid
            ),
            reason: reason,
            message: String(message.prefix(1024)),
            type: type.rawValue,
            component: component,
            timestamp: time
        )
        do {
            try await writer.createEvent(event)
            recent.withLock { $0[key] = (event.metadata.name ?? "", 1, at) }
        } catch {
            logger.warning("cannot record event", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }
}
