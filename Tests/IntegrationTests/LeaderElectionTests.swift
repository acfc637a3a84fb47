#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// Two Vigil processes on one Lease: one reconciles, the other stands by with warm caches
/// and takes over when the leader dies.
@Suite(.serialized) struct LeaderElectionTests {
    @Test func theStandbyTakesOverWithinTheLeaseDurationAfterKillMinus9AndAppliesTheEditOnce() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "election"
        try await plane.createNamespace(ns)
        let timing = ["--leader-election-lease-duration", "6", "--leader-election-renew-deadline", "4", "--leader-election-retry-period", "1"]
        let flags = ["--leader-elect", "--leader-election-namespace", ns, "--leader-election-id", "vigil-test"] + timing
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns, extra: flags) { a in
            _ = try await eventually("the first process to lead") { a.log.contains("became leader") ? true : nil }
            try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns, extra: flags) { b in
                _ = try await eventually("the second to stand by") { b.log.contains("waiting for the leader lease") ? true : nil }

                try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "development"))
                _ = try await eventually("Ready") { () -> Bool? in
                    try await plane.getIfExists(ObservabilityStack.self, ns, "app")?.status?.condition("Ready")?.status == "True" ? true : nil
                }
                func holder() async throws -> String? {
                    try await plane.getIfExists(Lease.self, ns, "vigil-test")?.spec?.holderIdentity
                }
                let first = try #require(try await holder())
                #expect(!b.log.contains("applied"), "the standby wrote")

                // The leader dies without a word; an edit arrives at once.
                a.kill()
                let killed = Date()
                try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"sampling":{"percentage":33}}}"#)
                // The takeover is the standby writing itself into the Lease: within the lease
                // duration (6 s) plus a retry period, with room for a loaded machine. Its
                // reconcile and apply come after, and are waited for on their own below.
                let second = try await eventually("the standby to take the lease", timeout: 40) { () -> String? in
                    guard let h = try await holder(), h != first else { return nil }
                    return h
                }
                let takeover = Date().timeIntervalSince(killed)
                #expect(takeover < 6 + 1 + 8, "took \(takeover)s")
                let cm = try await eventually("the standby to apply the edit", timeout: 40) { () -> ConfigMap? in
                    let c = try await plane.getIfExists(ConfigMap.self, ns, "app-collector")
                    return c?.data?["config.yaml"]?.contains("sampling_percentage: 33") == true ? c : nil
                }
                #expect(second != first)
                #expect(b.log.contains("became leader"))
                #expect((try await plane.getIfExists(Lease.self, ns, "vigil-test")?.spec?.leaseTransitions ?? 0) >= 1)
                // Applied once: the ConfigMap does not move again.
                try await Task.sleep(nanoseconds: 3_000_000_000)
                #expect(try await plane.getIfExists(ConfigMap.self, ns, "app-collector")?.metadata.resourceVersion == cm.metadata.resourceVersion)
                let metrics = try await run(["curl", "-s", try await b.endpoint("metrics") + "/metrics"])
                #expect(metrics.contains("leader_election_master_status{name=\"vigil-test\"} 1"))

                // A graceful stop hands the lease back at once.
                #expect(await b.terminate() == 0)
                _ = try await eventually("the lease released") { try await holder() == nil ? true : nil }
            }
        }
    }
}
