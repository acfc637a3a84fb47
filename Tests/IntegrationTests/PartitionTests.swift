#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// Issue 23's partition: two replicas, each reaching the API server through its own proxy
/// and with its own token. The leader's proxy is blackholed; the API server's audit log says
/// who wrote what, when.
@Suite(.serialized) struct PartitionTests {
    /// One write the API server received, from its audit log.
    struct Write {
        var user: String
        var at: Date
        var what: String
    }

    /// The time at the start of a text log line (`2026-12-01T19:14:06+0000 ...`).
    static func logTime(_ line: Substring) -> Date? {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.dateFormat = "yyyy-MM-dd'T'HH:mm:ssZ"
        return line.split(separator: " ").first.flatMap { f.date(from: String($0)) }
    }

    static func writes(auditLog: String) throws -> [Write] {
        let text = try String(contentsOfFile: auditLog, encoding: .utf8)
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var out: [Write] = []
        for line in text.split(separator: "\n") {
            guard let event = try? JSONCoding.decode(JSONValue.self, from: Array(line.utf8)),
                event["stage"]?.stringValue == "ResponseComplete",
                let verb = event["verb"]?.stringValue, ["create", "update", "patch", "delete", "deletecollection"].contains(verb),
                let user = event["user"]?["username"]?.stringValue, user.hasPrefix("replica-"),
                let at = event["requestReceivedTimestamp"]?.stringValue.flatMap(iso.date(from:))
            else { continue }
            let what = "\(verb) \(event["objectRef"]?["resource"]?.stringValue ?? "")/\(event["objectRef"]?["name"]?.stringValue ?? "")"
            out.append(Write(user: user, at: at, what: what))
        }
        return out
    }

    @Test func aPartitionedLeaderStopsWritingBeforeTheStandbyTakesOverAndRejoinsAsAStandby() async throws {
        let policy = "\(testRoot)/audit-policy-\(UUID().uuidString.prefix(6)).yaml"
        try """
        apiVersion: audit.k8s.io/v1
        kind: Policy
        omitStages: ["RequestReceived"]
        rules:
        - level: Metadata
        """.write(toFile: policy, atomically: true, encoding: .utf8)
        let audit = "\(testRoot)/audit-\(UUID().uuidString.prefix(6)).log"
        let args = "--audit-policy-file=\(policy) --audit-log-path=\(audit)"
        try await withOwnControlPlane(name: "partition", apiserverArgs: args, extraUsers: ["replica-a", "replica-b"]) { plane in
            try await plane.installCRD()
            let ns = "partition"
            try await plane.createNamespace(ns)
            let proxyA = try TCPProxy(targetPort: plane.port)
            let proxyB = try TCPProxy(targetPort: plane.port)
            defer { proxyA.stop(); proxyB.stop() }
            let renewDeadline = 4.0
            let timing = ["--leader-election-lease-duration", "6", "--leader-election-renew-deadline", "\(Int(renewDeadline))", "--leader-election-retry-period", "1"]
            let flags = ["--leader-elect", "--leader-election-namespace", ns, "--leader-election-id", "vigil-partition", "--resync-period", "2"] + timing
            try await withVigil(kubeconfig: try plane.kubeconfig(user: "replica-a", port: proxyA.port), namespace: ns, extra: flags) { a in
                _ = try await eventually("replica a to lead") { a.log.contains("became leader") ? true : nil }
                try await withVigil(kubeconfig: try plane.kubeconfig(user: "replica-b", port: proxyB.port), namespace: ns, extra: flags) { b in
                    _ = try await eventually("replica b to stand by") { b.log.contains("waiting for the leader lease") ? true : nil }
                    try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns))
                    _ = try await eventually("Ready") { () -> Bool? in
                        try await plane.getIfExists(ObservabilityStack.self, ns, "app")?.status?.condition("Ready")?.isTrue == true ? true : nil
                    }

                    // The leader is cut off; an edit arrives during the partition.
                    let cut = Date()
                    try proxyA.set("blackhole")
                    try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"sampling":{"percentage":33}}}"#)
                    _ = try await eventually("replica b to take over", timeout: 40) { b.log.contains("became leader") ? true : nil }
                    _ = try await eventually("the edit applied by b", timeout: 40) { () -> Bool? in
                        try await plane.getIfExists(ConfigMap.self, ns, "app-collector")?.data?["config.yaml"]?.contains("sampling_percentage: 33") == true ? true : nil
                    }
                    // By then a has stopped leading on its own, within its renew deadline of
                    // the cut (the log's times are whole seconds).
                    let lost = a.log.split(separator: "\n").first { $0.contains("leader election lost") }
                    #expect(lost != nil, "a still believes it leads while b does; log:\n\(a.log.suffix(2000))")
                    if let lost, let at = Self.logTime(lost) {
                        // Whole-second log times, and scheduling on a loaded machine.
                        #expect(at.timeIntervalSince(cut) <= renewDeadline + 3, "a stopped \(at.timeIntervalSince(cut))s after the cut")
                    }

                    // Healed: a comes back as a standby; only b acts on a later edit.
                    let healed = Date()
                    try proxyA.set("pass")
                    try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"sampling":{"percentage":44}}}"#)
                    _ = try await eventually("the second edit applied", timeout: 40) { () -> Bool? in
                        try await plane.getIfExists(ConfigMap.self, ns, "app-collector")?.data?["config.yaml"]?.contains("sampling_percentage: 44") == true ? true : nil
                    }
                    _ = try await eventually("replica a reconnected as a standby", timeout: 40) { () -> Bool? in
                        a.log.split(separator: "\n").contains { $0.contains("watch re-established") } && a.log.contains("waiting for the leader lease") ? true : nil
                    }
                    // Time for a's caches and resyncs (every 2 s) to have queued work, had it
                    // still believed it leads.
                    try await Task.sleep(nanoseconds: 6_000_000_000)
                    #expect(a.isRunning && b.isRunning)
                    #expect(try await plane.getIfExists(Lease.self, ns, "vigil-partition")?.spec?.holderIdentity?.isEmpty == false)

                    let writes = try Self.writes(auditLog: audit)
                    let byA = writes.filter { $0.user == "replica-a" }
                    let byB = writes.filter { $0.user == "replica-b" }
                    #expect(!byA.isEmpty && !byB.isEmpty, "audit log: \(writes.count) writes by the replicas")
                    let lastA = byA.map(\.at).max() ?? .distantPast
                    let firstB = byB.map(\.at).min() ?? .distantFuture
                    // Never both: every write of a's precedes every write of b's.
                    #expect(lastA < firstB, "a wrote at \(lastA), b from \(firstB)")
                    // a stopped writing within its renew deadline of the cut, and never after
                    // the partition healed.
                    #expect(lastA < cut.addingTimeInterval(renewDeadline), "a's last write \(lastA.timeIntervalSince(cut))s after the cut")
                    #expect(!byA.contains { $0.at > healed }, "a wrote after healing: \(byA.filter { $0.at > healed }.map(\.what))")
                    // b took over only after the lease duration.
                    #expect(firstB.timeIntervalSince(cut) >= 6 - 1, "b first wrote \(firstB.timeIntervalSince(cut))s after the cut")
                }
            }
        }
    }
}
