import Controller
import Foundation
import KubeModel
import Logging
import Render
import Synchronization
import TestSupport
import Testing

/// GitOps tools read a stack's health from its status: the kstatus conditions (`Reconciling`,
/// `Stalled`, Flux) and the Argo CD health check in `docs/argocd/health.lua`, run here with
/// Lua 5.1 (what Argo CD embeds) on stacks as Vigil's reconciles left them.
@Suite struct HealthCheckTests {
    let logger = Logger(label: "test")

    /// A JSON value as a Lua table constructor.
    static func lua(_ v: JSONValue) -> String {
        switch v {
        case .null: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .double(let d): return String(d)
        case .string(let s):
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default: out.unicodeScalars.append(u)
                }
            }
            return out + "\""
        case .array(let a): return "{" + a.map(lua).joined(separator: ", ") + "}"
        case .object(let o): return "{" + o.sorted { $0.key < $1.key }.map { "[\(lua(.string($0.key)))] = \(lua($0.value))" }.joined(separator: ", ") + "}"
        }
    }

    /// Argo CD's verdict on a stack: status and message.
    static func argoHealth(_ stack: ObservabilityStack) async throws -> (status: String, message: String) {
        let script = try String(contentsOf: repoRoot.appendingPathComponent("docs/argocd/health.lua"), encoding: .utf8)
        let obj = lua(try JSONCoding.decode(JSONValue.self, from: JSONCoding.encode(stack)))
        let program = "obj = \(obj)\nlocal function health()\n\(script)\nend\nlocal hs = health()\nio.write(hs.status .. \"\\n\" .. (hs.message or \"\"))\n"
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("health-\(UUID().uuidString).lua")
        try program.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let run = try await runTool(["lua5.1", file.path])
        #expect(run.status == 0, "lua5.1: \(run.output)")
        let lines = run.output.split(separator: "\n", maxSplits: 1).map(String.init)
        return (lines.first ?? "", lines.count > 1 ? lines[1] : "")
    }

    static var repoRoot: URL {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" && !FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { url.deleteLastPathComponent() }
        return url
    }

    func condition(_ s: ObservabilityStack?, _ type: String) -> String? { s?.status?.condition(type).map { "\($0.status)/\($0.reason)" } }

    @Test func kstatusConditionsAndTheArgoCDHealthCheckTellProgressFromFailure() async throws {
        let fake = FakeCluster()
        let stacks = Store<ObservabilityStack>()
        let owned = Kinds.owned.map { OwnedKind(resource: $0, store: Store<Unstructured>()) }
        let clock = ManualClock()
        let r = StackReconciler(
            stacks: stacks, owned: owned, writer: fake, events: EventRecorder(writer: fake, logger: logger), now: { clock.wallNow },
            nodeAddresses: { ["10.0.0.1"] }, logger: logger
        )
        var s = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: StackSpec(environment: .development))
        s.metadata.uid = "uid-1"
        s.metadata.generation = 1
        s.metadata.resourceVersion = "1"
        stacks.upsert(s)
        // Not reconciled yet.
        #expect(try await Self.argoHealth(s).status == "Progressing")
        _ = try await r.reconcile("team/obs")
        // Applied, but no collector pod is scheduled yet.
        var live = try #require(stacks.get("team/obs"))
        #expect(condition(live, "Stalled") == "False/Reconciled")
        #expect(try await Self.argoHealth(live).status == "Progressing")
        // The DaemonSet controller reports a rollout under way, then done.
        func daemonSet(desired: Int, ready: Int) throws {
            let ds = try #require(fake.objects.withLock { $0["daemonsets/team/obs-collector"] })
            var o = ds.object
            o["status"] = ["observedGeneration": .int(ds.metadata.generation ?? 1), "desiredNumberScheduled": .int(desired), "numberReady": .int(ready),
                "updatedNumberScheduled": .int(desired), "numberAvailable": .int(ready)]
            o["metadata"]?["resourceVersion"] = .string(String(fake.rv.add(1, ordering: .relaxed).newValue + 1_000_000))
            r.testUpsert(try Unstructured(object: o), kind: Kinds.daemonSet)
        }
        try daemonSet(desired: 3, ready: 1)
        _ = try await r.reconcile("team/obs")
        live = try #require(stacks.get("team/obs"))
        #expect(condition(live, "Reconciling") == "True/CollectorRollout")
        #expect(try await Self.argoHealth(live) == ("Progressing", "Progressing: 1 of 3 collector pods are ready"))
        try daemonSet(desired: 3, ready: 3)
        _ = try await r.reconcile("team/obs")
        live = try #require(stacks.get("team/obs"))
        #expect(condition(live, "Reconciling") == "False/Reconciled" && condition(live, "Ready") == "True/Reconciled")
        #expect(try await Self.argoHealth(live).status == "Healthy")
        // A new spec Vigil has not seen yet.
        var edited = live
        edited.metadata.generation = 2
        #expect(try await Self.argoHealth(edited).status == "Progressing")
        // A refused spec stalls the stack: Degraded, naming why.
        edited.spec.sampling = SamplingSpec(percentage: 250)
        edited.metadata.resourceVersion = "99999999"
        stacks.upsert(edited)
        _ = try await r.reconcile("team/obs")
        live = try #require(stacks.get("team/obs"))
        #expect(condition(live, "Stalled") == "True/InvalidSpec" && condition(live, "Reconciling") == "False/InvalidSpec")
        let degraded = try await Self.argoHealth(live)
        #expect(degraded.status == "Degraded" && degraded.message.contains("spec.sampling.percentage"), "\(degraded)")
        // Fixed: healthy again.
        edited.spec.sampling = nil
        edited.metadata.generation = 3
        edited.metadata.resourceVersion = "99999999999"
        stacks.upsert(edited)
        _ = try await r.reconcile("team/obs")
        #expect(try await Self.argoHealth(try #require(stacks.get("team/obs"))).status == "Healthy")
    }
}
