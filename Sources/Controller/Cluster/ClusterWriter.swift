import Foundation
import KubeClient
import KubeModel
import Render

/// The writes a reconcile makes. `KubeClient` does them against the API server; unit tests
/// use an in-memory fake.
public protocol ClusterWriter: Sendable {
    /// Server-side apply; returns the live object.
    func apply(_ object: DesiredObject) async throws -> Unstructured
    /// Server-side apply of the status subresource; returns the live stack.
    func applyStatus(_ status: StackStatus, of stack: ObservabilityStack) async throws -> ObservabilityStack
    func delete(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws
    func createEvent(_ event: Event) async throws
    /// Counts one more occurrence of an event already recorded.
    func bumpEvent(namespace: String, name: String, count: Int, lastTimestamp: String) async throws
    /// Sets Vigil's finalizers on the stack (others' are kept).
    func applyFinalizers(_ finalizers: [String], of stack: ObservabilityStack) async throws -> ObservabilityStack
    /// A Secret the user owns (not cached: Vigil caches only what it manages); nil if absent.
    func readSecret(namespace: String, name: String) async throws -> Secret?
    /// An object of a kind Vigil does not cache (the Prometheus Operator's); nil if absent.
    func readObject(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws -> Unstructured?
    /// Merges annotations into a workload's pod template, which rolls its pods (as
    /// `kubectl rollout restart` does); returns the live object.
    func patchTemplateAnnotations(_ resource: ResourceDescriptor, namespace: String, name: String, annotations: [String: String]) async throws -> Unstructured
    /// The workloads of one kind in a namespace, as opt-in restarts read them (not cached).
    func listWorkloads(_ resource: ResourceDescriptor, namespace: String) async throws -> [WorkloadSecretUse]
    /// The events of one kind (`reason`) on an object, as its controller recorded them (not
    /// cached: read only while a workload misses pods).
    func events(involving kind: String, namespace: String, name: String, reason: String) async throws -> [Event]
}

extension KubeClient: ClusterWriter {
    public func apply(_ object: DesiredObject) async throws -> Unstructured {
        let live = try await apply(object.body, resource: object.resource, namespace: object.namespace, name: object.name)
        return try Unstructured(object: live)
    }

    public func applyStatus(_ status: StackStatus, of stack: ObservabilityStack) async throws -> ObservabilityStack {
        let body: JSONValue = [
            "apiVersion": .string(ObservabilityStack.resource.apiVersion),
            "kind": .string(ObservabilityStack.resource.kind),
            "metadata": ["name": .string(stack.metadata.name ?? ""), "namespace": .string(stack.metadata.namespace ?? "")],
            "status": try jsonValue(of: status),
        ]
        let live = try await apply(
            body, resource: ObservabilityStack.resource, namespace: stack.metadata.namespace, name: stack.metadata.name ?? "", subresource: "status"
        )
        return try JSONCoding.decode(ObservabilityStack.self, from: JSONCoding.encode(live))
    }

    public func delete(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws {
        try await delete(resource: resource, namespace: namespace, name: name, propagation: .background, ignoreNotFound: true)
    }

    public func createEvent(_ event: Event) async throws {
        _ = try await create(event)
    }

    public func bumpEvent(namespace: String, name: String, count: Int, lastTimestamp: String) async throws {
        try await mergePatch(["count": .int(count), "lastTimestamp": .string(lastTimestamp)], resource: Event.resource, namespace: namespace, name: name)
    }

    public func applyFinalizers(_ finalizers: [String], of stack: ObservabilityStack) async throws -> ObservabilityStack {
        // A merge patch of the whole list, guarded by the resourceVersion: another
        // controller's finalizer added meanwhile makes it a conflict, never a loss.
        let others = (stack.metadata.finalizers ?? []).filter { $0 != Annotations.clientSecretsFinalizer }
        var meta: JSONObject = ["finalizers": .array((others + finalizers).map(JSONValue.string))]
        if let rv = stack.metadata.resourceVersion { meta["resourceVersion"] = .string(rv) }
        let live = try await mergePatch(["metadata": .object(meta)], resource: ObservabilityStack.resource, namespace: stack.metadata.namespace, name: stack.metadata.name ?? "")
        return try JSONCoding.decode(ObservabilityStack.self, from: JSONCoding.encode(live))
    }

    public func patchTemplateAnnotations(_ resource: ResourceDescriptor, namespace: String, name: String, annotations: [String: String]) async throws -> Unstructured {
        let patch: JSONValue = ["spec": ["template": ["metadata": ["annotations": .object(annotations.jsonObject)]]]]
        return try Unstructured(object: try await mergePatch(patch, resource: resource, namespace: namespace, name: name))
    }

    public func listWorkloads(_ resource: ResourceDescriptor, namespace: String) async throws -> [WorkloadSecretUse] {
        var all: [WorkloadSecretUse] = []
        _ = try await listPages(WorkloadSecretUse.self, resource: resource, namespace: namespace) { all += $0 }
        return all
    }

    public func events(involving kind: String, namespace: String, name: String, reason: String) async throws -> [Event] {
        let selector = "involvedObject.kind=\(kind),involvedObject.name=\(name),reason=\(reason)"
        return try await list(Event.self, namespace: namespace, fieldSelector: selector, pageSize: 50).items
    }

    public func readObject(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws -> Unstructured? {
        guard let bytes = try await ifExists({ try await getRaw(resource.path(namespace: namespace, name: name)) }) else { return nil }
        return try Unstructured(object: try JSONCoding.decode(JSONValue.self, from: bytes))
    }

    /// The resources the cluster serves in `monitoring.coreos.com/v1` (the Prometheus
    /// Operator's CRDs): `prometheusrules`, `servicemonitors`, …; empty when the group is not served.
    public func monitoringKinds() async throws -> Set<String> {
        // monitoring.coreos.com v1: PrometheusRule, ServiceMonitor; v1alpha1:
        // AlertmanagerConfig; the Grafana Operator's GrafanaDatasource and GrafanaDashboard.
        var kinds: Set<String> = []
        for groupVersion in ["monitoring.coreos.com/v1", "monitoring.coreos.com/v1alpha1", "grafana.integreatly.org/v1beta1"] {
            kinds.formUnion(try await servedResources(groupVersion))
        }
        // PodDisruptionBudgets: policy/v1 on current clusters, v1beta1 before 1.21.
        for version in ["v1", "v1beta1"] where try await servedResources("policy/\(version)").contains("poddisruptionbudgets") {
            kinds.insert(GatewayDisruptionBudget.discoveryKey(version: version))
        }
        return kinds
    }

    /// The resources (not subresources) a group version serves; empty when it is not served.
    func servedResources(_ groupVersion: String) async throws -> Set<String> {
        guard let bytes = try await ifExists({ try await getRaw("/apis/\(groupVersion)") }) else { return [] }
        let raw = try JSONCoding.decode(JSONValue.self, from: Data(bytes))
        return Set((raw["resources"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.filter { !$0.contains("/") })
    }

    public func readSecret(namespace: String, name: String) async throws -> Secret? {
        try await ifExists { try await get(Secret.self, namespace: namespace, name: name) }
    }
}
