import Controller
import KubeClient
import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

/// An in-memory API for fast tests of the reconcile logic. The real API server is tested
/// in IntegrationTests.
final class FakeCluster: ClusterWriter {
    struct Counts: Equatable {
        var applies = 0
        var statusWrites = 0
        var deletes = 0
        var events = 0
    }
    let counts = Mutex(Counts())
    let objects = Mutex<[String: Unstructured]>([:])
    let eventReasons = Mutex<[String]>([])
    let rv = Atomic<Int>(10_000)

    func apply(_ object: DesiredObject) async throws -> Unstructured {
        if let ns = object.namespace, missingNamespaces.withLock({ $0.contains(ns) }) {
            throw KubeAPIError(code: 404, reason: "NotFound", message: "namespaces \"\(ns)\" not found")
        }
        try beforeWrite()
        if let message = rejected.withLock({ $0[object.key] }) { throw KubeAPIError(code: 422, reason: "Invalid", message: message) }
        counts.withLock { $0.applies += 1 }
        appliedKeys.withLock { $0.append(object.key) }
        guard case .object(var body) = object.body, case .object(var meta)? = body["metadata"] else { fatalError() }
        meta["resourceVersion"] = .string(String(rv.add(1, ordering: .relaxed).newValue))
        if object.resource == Kinds.daemonSet {
            // As the API server does: the generation moves when the spec changes, and the
            // status is kept. With `autoRollout`, the DaemonSet controller is done at once
            // (no nodes).
            let old = objects.withLock { $0[object.key] }
            var generation = old?.metadata.generation ?? 1
            if let old, old.object["spec"] != body["spec"] { generation += 1 }
            meta["generation"] = .int(generation)
            body["status"] = old?.object["status"]
            if autoRollout.load(ordering: .relaxed) {
                body["status"] = ["observedGeneration": .int(generation), "desiredNumberScheduled": 0, "currentNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0]
            }
        }
        body["metadata"] = .object(meta)
        let u = try Unstructured(object: .object(body))
        objects.withLock { $0[object.key] = u }
        afterWrite()
        return u
    }

    /// Objects the API server refuses (422), by key, with its message.
    let rejected = Mutex<[String: String]>([:])
    /// Whether DaemonSets are rolled out as soon as they are applied.
    let autoRollout = Atomic<Bool>(true)
    /// Called before each write: may throw to fail it (a crash or an API error).
    let beforeWriteHook = Mutex<(@Sendable () throws -> Void)?>(nil)
    /// Called after each write that landed.
    let afterWriteHook = Mutex<(@Sendable () -> Void)?>(nil)
    func beforeWrite() throws { try beforeWriteHook.withLock { $0 }?() }
    func afterWrite() { afterWriteHook.withLock { $0 }?() }
    /// The stack as last written (status, finalizers).
    let stackObject = Mutex<ObservabilityStack?>(nil)

    func applyStatus(_ status: StackStatus, of stack: ObservabilityStack) async throws -> ObservabilityStack {
        try beforeWrite()
        counts.withLock { $0.statusWrites += 1 }
        var s = stack
        s.status = status
        let next = max(rv.add(1, ordering: .relaxed).newValue, (Int(stack.metadata.resourceVersion ?? "0") ?? 0) + 1)
        s.metadata.resourceVersion = String(next)
        stackObject.withLock { $0 = s }
        afterWrite()
        return s
    }

    func delete(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws {
        try beforeWrite()
        counts.withLock { $0.deletes += 1 }
        _ = objects.withLock { $0.removeValue(forKey: "\(resource.plural)/\(namespace ?? "")/\(name)") }
        afterWrite()
    }

    func createEvent(_ event: Event) async throws {
        counts.withLock { $0.events += 1 }
        eventReasons.withLock { $0.append(event.reason ?? "") }
    }

    let bumps = Mutex<[String: Int]>([:])
    func bumpEvent(namespace: String, name: String, count: Int, lastTimestamp: String) async throws {
        bumps.withLock { $0["\(namespace)/\(name)"] = count }
    }


    let userSecrets = Mutex<[String: Secret]>([:])
    let appliedKeys = Mutex<[String]>([])
    let missingNamespaces = Mutex<Set<String>>([])

    func applyFinalizers(_ finalizers: [String], of stack: ObservabilityStack) async throws -> ObservabilityStack {
        try beforeWrite()
        defer { afterWrite() }
        var s = stack
        var f = s.metadata.finalizers ?? []
        for x in finalizers where !f.contains(x) { f.append(x) }
        if finalizers.isEmpty { f.removeAll { $0 == Annotations.clientSecretsFinalizer } }
        s.metadata.finalizers = f.isEmpty ? nil : f
        let next = max(rv.add(1, ordering: .relaxed).newValue, (Int(stack.metadata.resourceVersion ?? "0") ?? 0) + 1)
        s.metadata.resourceVersion = String(next)
        stackObject.withLock { $0 = s }
        return s
    }

    func readSecret(namespace: String, name: String) async throws -> Secret? {
        userSecrets.withLock { $0["\(namespace)/\(name)"] }
    }

    let templatePatches = Mutex<[String]>([])
    func patchTemplateAnnotations(_ resource: ResourceDescriptor, namespace: String, name: String, annotations: [String: String]) async throws -> Unstructured {
        try beforeWrite()
        defer { afterWrite() }
        let key = "\(resource.plural)/\(namespace)/\(name)"
        return try objects.withLock { objects -> Unstructured in
            guard var o = objects[key]?.object else { throw KubeAPIError(code: 404, reason: "NotFound", message: "\(resource.plural) \"\(name)\" not found") }
            var current = o["spec"]?["template"]?["metadata"]?["annotations"]?.objectValue ?? [:]
            for (k, v) in annotations { current[k] = .string(v) }
            var spec = o["spec"]?.objectValue ?? [:]
            var template = spec["template"]?.objectValue ?? [:]
            var meta = template["metadata"]?.objectValue ?? [:]
            meta["annotations"] = .object(current)
            template["metadata"] = .object(meta)
            spec["template"] = .object(template)
            o["spec"] = .object(spec)
            let generation = (o["metadata"]?["generation"]?.intValue ?? 1) + 1
            o["metadata"]?["generation"] = .int(generation)
            o["metadata"]?["resourceVersion"] = .string(String(rv.add(1, ordering: .relaxed).newValue))
            if resource == Kinds.daemonSet, autoRollout.load(ordering: .relaxed) {
                o["status"] = ["observedGeneration": .int(generation), "desiredNumberScheduled": 0, "currentNumberScheduled": 0, "numberMisscheduled": 0, "numberReady": 0]
            }
            let u = try Unstructured(object: o)
            objects[key] = u
            templatePatches.withLock { $0.append(key) }
            return u
        }
    }

    func listWorkloads(_ resource: ResourceDescriptor, namespace: String) async throws -> [WorkloadSecretUse] {
        let prefix = "\(resource.plural)/\(namespace)/"
        let found = objects.withLock { $0.filter { $0.key.hasPrefix(prefix) }.map(\.value) }
        return try found.map { try JSONCoding.decode(WorkloadSecretUse.self, from: JSONCoding.encode($0.object)) }
    }

    /// Events other controllers recorded (the DaemonSet controller's `FailedCreate`).
    let foreignEvents = Mutex<[Event]>([])
    func events(involving kind: String, namespace: String, name: String, reason: String) async throws -> [Event] {
        foreignEvents.withLock {
            $0.filter { $0.metadata.namespace == namespace && $0.involvedObject.kind == kind && $0.involvedObject.name == name && $0.reason == reason }
        }
    }

    let objectReads = Mutex(0)
    func readObject(_ resource: ResourceDescriptor, namespace: String?, name: String) async throws -> Unstructured? {
        objectReads.withLock { $0 += 1 }
        return objects.withLock { $0["\(resource.plural)/\(namespace ?? "")/\(name)"] }
    }
}


extension FakeCluster {
    /// A reconciler on this fake at `clock`, one node address, namespace `apps` accepting
    /// the stack `team/obs`, and `pods()` as the pods there are (filtered, as the informer's
    /// store is, by namespace and Secret).
    func reconciler(
        stacks: Store<ObservabilityStack>, clock: ManualClock, logger: Logger, pods: @escaping @Sendable () -> [PodSecretUse]
    ) -> StackReconciler {
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        return StackReconciler(
            stacks: stacks, owned: owned, writer: self, events: EventRecorder(writer: self, logger: logger), now: { clock.wallNow },
            nodeAddresses: { ["10.0.0.1"] }, acceptedStacks: { _ in ["team/obs"] },
            podsReading: { ns, secret in pods().filter { $0.metadata.namespace == ns && $0.secrets.contains(secret) } }, logger: logger
        )
    }
}
