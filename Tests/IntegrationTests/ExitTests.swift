#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// Issue 23's exit: whatever became of the API server, SIGTERM ends `vigil run` within its
/// graceful-shutdown bound (10 s for reconciles in flight, plus a 5 s margin).
@Suite(.serialized) struct ExitTests {
    enum Fault: String, CaseIterable, Sendable, CustomTestStringConvertible {
        /// The control plane is killed and a fresh one answers at the same address.
        case freshServer
        /// Nothing answers: connections hang.
        case unreachable
        /// Every byte takes 20 s.
        case slow
        var testDescription: String { rawValue }
    }

    static let bound = 10.0 + 5.0
    /// Scheduling on a loaded two-core machine (CI runs other suites beside these): a
    /// watchdog due at 15 s was once seen to end the process 2.2 s late.
    static let slack = 5.0

    /// A service that never stops and, once asked to, wedges every thread of the Swift
    /// concurrency pool (a hidden testing flag): the watchdog, which runs on Dispatch's own
    /// threads, still ends the process at the bound, with status 3. (A watchdog sleeping on
    /// the pool never fired here: SIGKILL at 40 s.)
    @Test func aShutdownThatNeverFinishesIsEndedByTheWatchdog() async throws {
        let plane = try await SharedControlPlane.shared.get()
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: "exit-stuck", extra: ["--testing-stuck-shutdown"]) { vigil in
            _ = try await eventually("caches synced") { vigil.log.contains("caches synced") ? true : nil }
            let (status, took) = await vigil.terminateTimed(timeout: 40)
            #expect(status == 3, "exit status \(String(describing: status)); log:\n\(vigil.log.suffix(2000))")
            #expect(took >= Self.bound - 0.5 && took <= Self.bound + Self.slack, "the watchdog ended it after \(took)s")
            #expect(vigil.log.contains("shutdown did not finish within"))
        }
    }

    @Test(arguments: Fault.allCases)
    func sigtermEndsTheProcessWithinTheBound(_ fault: Fault) async throws {
        for round in 1...3 {
            try await withOwnControlPlane(name: "exit") { plane in
                try await plane.installCRD()
                let proxy = try TCPProxy(targetPort: plane.port)
                defer { proxy.stop() }
                try await plane.createNamespace("exit")
                try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: "exit"))
                // A resync every second, watches and (with the fault) reconnects: requests are
                // in flight when the fault strikes and when SIGTERM comes.
                try await withVigil(kubeconfig: try plane.kubeconfig(port: proxy.port), namespace: nil, extra: ["--resync-period", "1"]) { vigil in
                    _ = try await eventually("the stack Ready") { () -> Bool? in
                        try await plane.getIfExists(ObservabilityStack.self, "exit", "app")?.status?.condition("Ready")?.isTrue == true ? true : nil
                    }
                    var fresh: ControlPlane? = nil
                    switch fault {
                    case .freshServer:
                        fresh = try await ControlPlane.start(name: "exit-fresh")
                        await plane.stop()
                        try proxy.set("target:\(fresh?.port ?? 0)")
                    case .unreachable:
                        try proxy.set("blackhole")
                    case .slow:
                        try proxy.set("delay:20")
                    }
                    // Long enough for requests to be in flight, hung or failing.
                    try await Task.sleep(nanoseconds: 3_000_000_000)
                    let (status, took) = await vigil.terminateTimed(timeout: 40)
                    await fresh?.stop()
                    print("exit test \(fault.rawValue) round \(round): status \(status.map(String.init) ?? "none") after \(String(format: "%.1f", took)) s")
                    #expect(status != nil, "round \(round): vigil did not exit within 40 s of SIGTERM; log:\n\(vigil.log.suffix(3000))")
                    #expect(took <= Self.bound + Self.slack, "round \(round): exit took \(took)s")
                    // 0: stopped cleanly; 3: the watchdog ended a shutdown that overran.
                    #expect(status == 0 || status == 3, "round \(round): exit status \(String(describing: status))")
                    #expect(vigil.log.contains("exiting"), "round \(round): no exit line")
                }
            }
        }
    }
}
