#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// The REST client against the real API server: pagination, watches, 410 after
/// compaction, cancellation, delete.
@Suite(.serialized) struct ClientTests {
    func makeConfigMaps(_ plane: ControlPlane, ns: String, count: Int) async throws {
        for i in 0..<count {
            try await plane.client.apply(ConfigMap(metadata: ObjectMeta(name: "cm-\(i)", namespace: ns, labels: ["batch": "one"]), data: ["i": "\(i)"]))
        }
    }

    /// Open watches on configmaps, from the API server's own gauge.
    func openConfigMapWatches(_ plane: ControlPlane) async throws -> Int {
        let text = String(decoding: try await plane.client.getRaw("/metrics"), as: UTF8.self)
        var total = 0
        for line in text.split(separator: "\n") where line.hasPrefix("apiserver_longrunning_gauge{") {
            if line.contains(#"resource="configmaps""#) && line.contains(#"verb="WATCH""#) {
                total += Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
            }
        }
        return total
    }

    @Test func listPagesThroughContinueTokensOnTheRealServer() async throws {
        let plane = try await SharedControlPlane.shared.get()
        try await plane.createNamespace("paging")
        try await makeConfigMaps(plane, ns: "paging", count: 7)
        let list = try await plane.client.list(ConfigMap.self, namespace: "paging", labelSelector: "batch=one", pageSize: 3)
        #expect(list.items.compactMap(\.metadata.name).sorted() == (0..<7).map { "cm-\($0)" }.sorted())
        #expect(list.metadata.resourceVersion != nil)
    }

    @Test func aWatchDeliversEventsAndCancellationClosesIt() async throws {
        // Its own control plane, without the garbage collector (which opens watches on every
        // kind when it pleases): the count of open watches moves only with this test's.
        try await withOwnControlPlane(name: "watch", controllers: "namespace") { plane in
            try await watchScenario(plane)
        }
    }

    func watchScenario(_ plane: ControlPlane) async throws {
        try await plane.createNamespace("watching")
        let start = try await plane.client.list(ConfigMap.self, namespace: "watching")
        let openBefore = try await openConfigMapWatches(plane)
        let seen = try await withThrowingTaskGroup(of: [String].self) { group in
            group.addTask {
                var names: [String] = []
                let stream = try await plane.client.watch(ConfigMap.self, namespace: "watching", resourceVersion: start.metadata.resourceVersion)
                for try await event in stream where event.type == .added {
                    names.append(event.object.metadata.name ?? "")
                    if names.count == 3 { break }
                }
                return names
            }
            try await Task.sleep(nanoseconds: 300_000_000)
            try await makeConfigMaps(plane, ns: "watching", count: 3)
            return try await group.next() ?? []
        }
        #expect(seen == ["cm-0", "cm-1", "cm-2"])

        // A watch whose consumer is cancelled must close its connection.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let stream = try await plane.client.watch(ConfigMap.self, namespace: "watching", resourceVersion: nil)
                for try await _ in stream {}
            }
            _ = try await eventually("the watch registered") { try await openConfigMapWatches(plane) > openBefore ? true : nil }
            group.cancelAll()
            _ = try? await group.next()
        }
        _ = try await eventually("the watch closed") { try await openConfigMapWatches(plane) <= openBefore ? true : nil }
    }

    @Test func aWatchFromACompactedVersionFailsWithGone() async throws {
        // Without the watch cache, a watch reads etcd, whose compaction makes old versions gone.
        try await withOwnControlPlane(name: "compact", apiserverArgs: "--watch-cache=false") { plane in
            try await plane.createNamespace("old")
            let rv = try await plane.client.list(ConfigMap.self, namespace: "old").metadata.resourceVersion
            try await makeConfigMaps(plane, ns: "old", count: 3)
            let endpoint = "http://127.0.0.1:\(plane.env["ETCD_PORT"]!)"
            let status = try await run(["etcdctl", "--endpoints", endpoint, "endpoint", "status", "-w", "json"], environment: ["ETCDCTL_API": "3"])
            let json = try JSONCoding.decode(JSONValue.self, from: Array(status.utf8))
            guard case .int(let revision)? = json.arrayValue?.first?["Status"]?["header"]?["revision"] else {
                Issue.record("no revision in \(status)")
                await plane.stop()
                return
            }
            try await run(["etcdctl", "--endpoints", endpoint, "compact", String(revision)], environment: ["ETCDCTL_API": "3"])
            await #expect {
                let stream = try await plane.client.watch(ConfigMap.self, namespace: "old", resourceVersion: rv, timeoutSeconds: 20)
                for try await _ in stream {}
            } throws: { error in
                (error as? KubeAPIError)?.isGone == true
            }
        }
    }

    @Test func deleteRemovesAnObjectAndIgnoresOneAlreadyGone() async throws {
        let plane = try await SharedControlPlane.shared.get()
        try await plane.createNamespace("deleting")
        try await makeConfigMaps(plane, ns: "deleting", count: 1)
        try await plane.client.delete(resource: ConfigMap.resource, namespace: "deleting", name: "cm-0", propagation: .foreground)
        _ = try await eventually("the ConfigMap gone") { () -> Bool? in
            try await plane.getIfExists(ConfigMap.self, "deleting", "cm-0") == nil ? true : nil
        }
        try await plane.client.delete(resource: ConfigMap.resource, namespace: "deleting", name: "cm-0")
        await #expect(throws: KubeAPIError.self) {
            try await plane.client.delete(resource: ConfigMap.resource, namespace: "deleting", name: "cm-0", ignoreNotFound: false)
        }
    }
}
