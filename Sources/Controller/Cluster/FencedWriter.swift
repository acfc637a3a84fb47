import KubeModel
import Render

/// A `ClusterWriter` that sends a write only while `fence` holds (this process leads):
/// a reconcile still running when the lease is lost cannot write after that instant.
/// Reads pass through.
public struct FencedWriter: ClusterWriter {
    let base: any ClusterWriter
    let fence: @Sendable () -> Bool

    public init(_ base: any ClusterWriter, fence: @escaping @Sendable () -> Bool) {
        self.base = base
        self.fence = fence
    }

    func check() throws {
        guard fence() else { throw LeaderElector.NotLeader() }
    }

    public func apply(_ object: DesiredObject) async throws -> Unstructured {
        try check()
        return try await base.apply(object)
    }

    public func applyStatus(_ status: StackStatus, of stack: ObservabilityStack) async throws -> ObservabilityStack {
        try check()
        return try await base.applyStatus(status, of: stack)
    }

    public func delete(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws {
        try check()
        try await base.delete(resource, namespace: namespace, name: name)
    }

    public func createEvent(_ event: Event) async throws {
        try check()
        try await base.createEvent(event)
    }

    public func bumpEvent(namespace: String, name: String, count: Int, lastTimestamp: String) async throws {
        try check()
        try await base.bumpEvent(namespace: namespace, name: name, count: count, lastTimestamp: lastTimestamp)
    }

    public func applyFinalizers(_ finalizers: [String], of stack: ObservabilityStack) async throws -> ObservabilityStack {
        try check()
        return try await base.applyFinalizers(finalizers, of: stack)
    }

    public func patchTemplateAnnotations(_ resource: ResourceDescriptor, namespace: String, name: String, annotations: [String: String]) async throws -> Unstructured {
        try check()
        return try await base.patchTemplateAnnotations(resource, namespace: namespace, name: name, annotations: annotations)
    }

    public func listWorkloads(_ resource: ResourceDescriptor, namespace: String) async throws -> [WorkloadSecretUse] {
        try await base.listWorkloads(resource, namespace: namespace)
    }

    public func readSecret(namespace: String, name: String) async throws -> Secret? { try await base.readSecret(namespace: namespace, name: name) }
    public func events(involving kind: String, namespace: String, name: String, reason: String) async throws -> [Event] {
        try await base.events(involving: kind, namespace: namespace, name: name, reason: reason)
    }
    public func readObject(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws -> Unstructured? {
        try await base.readObject(resource, namespace: namespace, name: name)
    }
}
