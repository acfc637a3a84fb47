#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// Faults and steady state, each on a control plane of its own so that no other test's
/// traffic disturbs what it measures.
@Suite(.serialized) struct FaultTests {
    func ready(_ plane: ControlPlane, _ ns: String, _ name: String) async throws -> Bool? {
        let s = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: name)
        return s.status?.condition("Ready")?.status == "True" && s.status?.observedGeneration == s.metadata.generation ? true : nil
    }

    @Test func aSteadyStateWritesNothing() async throws {
        try await withOwnControlPlane(name: "steady") { plane in
            try await plane.installCRD()
            try await plane.createNamespace("quiet")
            try await withVigil(kubeconfig: plane.kubeconfig, namespace: nil, extra: ["--resync-period", "2"]) { vigil in
                for i in 0..<5 {
                    try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "s\(i)", namespace: "quiet", environment: ["development", "staging", "production"][i % 3]))
                }
                try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "bad", namespace: "quiet", extra: "  ingest:\n    tls:\n      mode: Secret\n"))
                // Every kind Vigil makes, gateway included.
                try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("examples/production.yaml").path)
                _ = try await eventually("the production example Ready") { try await ready(plane, "fba-prod", "fba-bench") }
                for i in 0..<5 {
                    _ = try await eventually("s\(i) Ready") { try await ready(plane, "quiet", "s\(i)") }
                }
                _ = try await eventually("bad rejected") { () -> Bool? in
                    let s = try await plane.client.get(ObservabilityStack.self, namespace: "quiet", name: "bad")
                    return s.status?.condition("ConfigValid")?.status == "False" ? true : nil
                }
                // Let the last watch events settle, then measure a quiet period that spans
                // several full resyncs (every 2 s here).
                try await Task.sleep(nanoseconds: 2_000_000_000)
                let verbs: Set<String> = ["POST", "PUT", "PATCH", "DELETE"]
                let resources: Set<String> = ["configmaps", "observabilitystacks", "events", "secrets", "services", "serviceaccounts", "daemonsets", "deployments", "networkpolicies"]
                let before = try await plane.requestCount(verbs: verbs, resources: resources)
                try await Task.sleep(nanoseconds: 10_000_000_000)
                let after = try await plane.requestCount(verbs: verbs, resources: resources)
                #expect(before > 0, "the metric must have counted the convergence writes")
                #expect(after == before, "Vigil wrote \(after - before) times in a steady state")
                #expect(vigil.log.contains("caches synced"))
                #expect(await vigil.terminate() == 0)
            }
        }
    }

    @Test func vigilSurvivesAnAPIServerRestartAndAppliesEditsMadeMeanwhile() async throws {
        try await survives("restart", watchesBreak: true) { try await $0.restartAPIServer(downSeconds: 4) }
    }

    @Test func vigilSurvivesAnEtcdRestartAndAppliesEditsMadeMeanwhile() async throws {
        // The API server stays up, serving watches from its cache, and answers writes with
        // errors while etcd is away: the edit waits until etcd is back.
        try await survives("etcd-restart", watchesBreak: false) { try await $0.restartEtcd(downSeconds: 4) }
    }

    /// The informers' reconnect warnings in a log, a line each.
    func reconnectWarnings(_ log: String) -> [Substring] {
        log.split(separator: "\n").filter { $0.contains("API server unreachable; reconnecting") || $0.contains("watch failed; retrying") }
    }

    /// Reconnect attempts in a log: each warning line, plus the similar ones it says were
    /// held back (the warnings are rate-limited).
    func reconnectAttempts(_ log: String) -> Int {
        reconnectWarnings(log).reduce(0) { n, line in
            let held = line.range(of: "similar_warnings_held_back=").map { Int(line[$0.upperBound...].prefix { $0.isNumber }) ?? 0 } ?? 0
            return n + 1 + held
        }
    }

    /// The highest attempt number a reconnect warning in `log` names. With backoff from
    /// 0.2 s, jittered to no less than half, an informer's `n`-th attempt comes at least
    /// 0.1 × (2^(n-1) − 1) s after its first: in `seconds`, at most 1 + log2(1 + 10 × seconds)
    /// attempts. A loop without backoff reaches hundreds in a second.
    func highestAttempt(_ log: String) -> Int {
        reconnectWarnings(log).compactMap { line in
            line.range(of: " attempt=").flatMap { Int(line[$0.upperBound...].prefix { $0.isNumber }) }
        }.max() ?? 0
    }

    func survives(_ name: String, watchesBreak: Bool, fault: (ControlPlane) async throws -> Void) async throws {
        try await withOwnControlPlane(name: name) { plane in
            try await plane.installCRD()
            try await plane.createNamespace("faults")
            try await withVigil(kubeconfig: plane.kubeconfig, namespace: "faults") { vigil in
                try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: "faults"))
                _ = try await eventually("Ready") { try await ready(plane, "faults", "app") }

                let failuresBefore = reconnectAttempts(vigil.log)
                let logBefore = vigil.log.utf8.count
                let faultStart = Date()
                // Down for 4 seconds; the edit lands right after the server returns, while
                // Vigil is still backing off.
                try await fault(plane)
                _ = try await eventually("the API server answering again", timeout: 60) { () -> Bool? in
                    (try? await plane.kubectl("patch", "observabilitystack", "app", "-n", "faults", "--type=merge", "-p", #"{"spec":{"sampling":{"percentage":33}}}"#)) != nil ? true : nil
                }
                _ = try await eventually("the edit applied after the restart", timeout: 90) { () -> Bool? in
                    let cm = try await plane.client.get(ConfigMap.self, namespace: "faults", name: "app-collector")
                    return cm.data?["config.yaml"]?.contains("sampling_percentage: 33") == true ? true : nil
                }
                _ = try await eventually("Ready at generation 2") { try await ready(plane, "faults", "app") }
                #expect(vigil.isRunning, "vigil exited; log:\n\(vigil.log.suffix(3000))")
                let failures = reconnectAttempts(vigil.log) - failuresBefore
                if watchesBreak { #expect(failures >= 1, "the outage must have been noticed; log:\n\(vigil.log.suffix(2000))") }
                // No informer retried faster than its backoff allows over the whole fault (the
                // number of attempts of all informers together grows with how long a loaded
                // machine takes to restart the server; each one's count only with its log).
                let seconds = Date().timeIntervalSince(faultStart)
                let allowed = 1 + Int(log2(1 + 10 * seconds))
                let highest = highestAttempt(String(decoding: vigil.log.utf8.dropFirst(logBefore), as: UTF8.self))
                if watchesBreak { #expect(highest >= 1, "no reconnect warning named its attempt; log:\n\(vigil.log.suffix(2000))") }
                #expect(highest <= allowed, "an informer reached attempt \(highest) in \(seconds) s (backoff allows \(allowed)): a hot loop")
                #expect(await vigil.terminate() == 0)
            }
        }
    }

    @Test func aWatchWhoseVersionWasCompactedAwayListsAgainAndConverges() async throws {
        // Without the watch cache, watches read etcd, so compaction expires old versions.
        try await withOwnControlPlane(name: "gone", apiserverArgs: "--watch-cache=false") { plane in
            try await plane.installCRD()
            try await plane.createNamespace("watched")
            try await plane.createNamespace("elsewhere")
            try await withVigil(kubeconfig: plane.kubeconfig, namespace: "watched") { vigil in
                try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: "watched"))
                _ = try await eventually("Ready") { try await ready(plane, "watched", "app") }

                // Move etcd on with changes Vigil does not watch, then compact everything.
                for i in 0..<5 {
                    try await plane.client.apply(ConfigMap(metadata: ObjectMeta(name: "noise-\(i)", namespace: "elsewhere"), data: ["i": "\(i)"]))
                }
                let endpoint = "http://127.0.0.1:\(plane.env["ETCD_PORT"]!)"
                let status = try await run(["etcdctl", "--endpoints", endpoint, "endpoint", "status", "-w", "json"], environment: ["ETCDCTL_API": "3"])
                let json = try JSONCoding.decode(JSONValue.self, from: Array(status.utf8))
                guard case .int(let revision)? = json.arrayValue?.first?["Status"]?["header"]?["revision"] else {
                    throw CommandError(description: "no revision in \(status)")
                }
                try await run(["etcdctl", "--endpoints", endpoint, "compact", String(revision)], environment: ["ETCDCTL_API": "3"])
                // Drop Vigil's watches: it resumes from versions that no longer exist.
                try await plane.restartAPIServer(downSeconds: 1)
                try await plane.kubectl("patch", "observabilitystack", "app", "-n", "watched", "--type=merge", "-p", #"{"spec":{"sampling":{"percentage":7}}}"#)
                _ = try await eventually("the edit applied after the re-list", timeout: 90) { () -> Bool? in
                    let cm = try await plane.client.get(ConfigMap.self, namespace: "watched", name: "app-collector")
                    return cm.data?["config.yaml"]?.contains("sampling_percentage: 7") == true ? true : nil
                }
                #expect(vigil.log.contains("watch expired; listing again"), "no re-list after 410; log:\n\(vigil.log.suffix(3000))")
                #expect(vigil.isRunning)
                #expect(await vigil.terminate() == 0)
            }
        }
    }
}
