import Foundation
import KubeModel
import Logging

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

    public func record(_ stack: ObservabilityStack, type: EventType, reason: String, message: String) async {
        guard let writer else { return }
        let time = now().formatted(.iso8601)
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
        } catch {
            logger.warning("cannot record event", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }
}
