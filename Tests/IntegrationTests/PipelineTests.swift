#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Render
import Testing

/// The collector pipeline on the real API server: what each example becomes, that
/// `vigil render` matches it, and that edits change exactly what they should.
@Suite(.serialized) struct PipelineTests {
    /// The workloads; the certificate Secrets have tests of their own. Kubernetes 1.20 serves
    /// the gateway's PodDisruptionBudget as policy/v1beta1 only (Vigil writes policy/v1 from
    /// 1.21 on, as discovery finds).
    static let pdb = ResourceDescriptor(group: "policy", version: "v1beta1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets")
    static let kinds = Kinds.owned.filter { $0 != Kinds.secret } + [pdb]

    /// Every object Vigil manages in `ns`, keyed `kind/name`, without server bookkeeping.
    func snapshot(_ plane: ControlPlane, _ ns: String) async throws -> JSONObject {
        var out: JSONObject = [:]
        for kind in Self.kinds {
            let list = try await plane.client.list(Unstructured.self, resource: kind, namespace: ns, labelSelector: Labels.managedSelector)
            for item in list.items {
                guard case .object(var o) = item.object, case .object(var meta)? = o["metadata"] else { continue }
                for k in ["resourceVersion", "generation", "managedFields", "creationTimestamp", "uid", "selfLink"] { meta[k] = nil }
                if case .object(var ann)? = meta["annotations"] {
                    ann[Annotations.desiredHash] = nil
                    // The DaemonSet controller's bookkeeping, moved by the API server on update.
                    ann["deprecated.daemonset.template.generation"] = nil
                    meta["annotations"] = .object(ann)
                }
                o["metadata"] = .object(meta)
                o["status"] = nil
                // List items carry no apiVersion and kind.
                o["apiVersion"] = .string(kind.apiVersion)
                o["kind"] = .string(kind.kind)
                out["\(kind.kind)/\(item.metadata.name ?? "")"] = .object(o)
            }
        }
        return out
    }

    /// Paths at which two JSON values differ.
    func differences(_ a: JSONValue?, _ b: JSONValue?, path: String = "") -> [String] {
        switch (a, b) {
        case (.object(let x)?, .object(let y)?):
            return Set(x.keys).union(y.keys).sorted().flatMap { differences(x[$0], y[$0], path: "\(path).\($0)") }
        case (.array(let x)?, .array(let y)?) where x.count == y.count:
            return zip(x, y).enumerated().flatMap { differences($1.0, $1.1, path: "\(path)[\($0)]") }
        default:
            return a == b ? [] : [path]
        }
    }

    func renderCLI(_ file: String) async throws -> String {
        try await run([VigilProcess.binary, "render", "-f", file])
    }

    @Test func eachExampleBecomesItsWorkloadsAndMatchesVigilRender() async throws {
        let plane = try await SharedControlPlane.shared.get()
        // One operator per namespace: other suites share this control plane, and two
        // operators on one stack would fight (leader election is issue 8's).
        var vigils: [VigilProcess] = []
        defer { for v in vigils { v.kill() } }
        for env in ["development", "staging", "production"] {
            let file = repoRoot.appendingPathComponent("examples/\(env).yaml").path
            let ns = ["development": "fba-dev", "staging": "fba-staging", "production": "fba-prod"][env]!
            // Other suites create these namespaces on the shared plane at the same time: made
            // first (race-safe), the example's own Namespace then finds it.
            try await plane.createNamespace(ns)
            try await plane.kubectl("apply", "-f", file)
            vigils.append(try VigilProcess(kubeconfig: plane.kubeconfig, namespace: ns))
            var expected = [
                "ServiceAccount/fba-bench-collector", "RoleBinding/\(ns).fba-bench-collector", "ConfigMap/fba-bench-collector", "Service/fba-bench-collector",
                "Service/fba-bench-collector-headless", "DaemonSet/fba-bench-collector",
            ]
            // Staging and production run a gateway, with its disruption budget.
            if env != "development" {
                expected += ["ConfigMap/fba-bench-gateway", "Service/fba-bench-gateway-headless", "Deployment/fba-bench-gateway", "PodDisruptionBudget/fba-bench-gateway"]
            }
            // Network policies: on in staging and production.
            if env != "development" { expected.append("NetworkPolicy/fba-bench-collector") }
            // The gateway's own policy: only the stack's agents reach it.
            if env != "development" { expected.append("NetworkPolicy/fba-bench-gateway") }
            // Monitoring: the Prometheus ConfigMap (no Prometheus Operator here) and Grafana's.
            expected += ["ConfigMap/fba-bench-prometheus", "ConfigMap/fba-bench-grafana-datasources", "ConfigMap/fba-bench-grafana-dashboards"]
            // 90 s: the whole suite shares two cores, and a production stack issues four
            // certificates. A timeout names what was missing and what Vigil logged.
            var seen: Set<String> = []
            let live: JSONObject
            do {
                live = try await eventually("the \(env) objects", timeout: 90) { () -> JSONObject? in
                    let s = try await snapshot(plane, ns)
                    seen = Set(s.keys)
                    return seen == Set(expected) ? s : nil
                }
            } catch {
                let missing = Set(expected).subtracting(seen).sorted(), extra = seen.subtracting(expected).sorted()
                Issue.record("\(error): missing \(missing), unexpected \(extra); vigil's log:\n\(vigils.last?.log.suffix(4000) ?? "")")
                throw error
            }
            // Every live object is owned by the stack.
            let uid = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "fba-bench").metadata.uid
            for (k, o) in live {
                #expect(o["metadata"]?["ownerReferences"]?.arrayValue?.first?["uid"]?.stringValue == uid, "\(k) is not owned by the stack")
            }

            // `vigil render` gives the same bytes twice, and every field it renders is live.
            let a = try await renderCLI(file)
            let b = try await renderCLI(file)
            #expect(a == b, "vigil render is not deterministic for \(env)")
            for doc in try StackFile.renderFiles(try String(contentsOfFile: file, encoding: .utf8)) {
                let node = try #require(try Yams_compose(doc.yaml))
                guard case .object(var o) = node, case .object(var meta)? = o["metadata"] else { continue }
                if case .object(var ann)? = meta["annotations"] {
                    ann[Annotations.desiredHash] = nil
                    meta["annotations"] = ann.isEmpty ? nil : .object(ann)
                }
                o["metadata"] = .object(meta)
                if o["kind"] == "PodDisruptionBudget" { o["apiVersion"] = .string(Self.pdb.apiVersion) }
                // The pod template's hash also covers the Secrets only the operator makes
                // (htpasswd): offline it cannot match, and the render header says so.
                if case .object(var spec)? = o["spec"], case .object(var template)? = spec["template"],
                    case .object(var tmeta)? = template["metadata"], case .object(var ann)? = tmeta["annotations"]
                {
                    ann[Annotations.configHash] = nil
                    tmeta["annotations"] = ann.isEmpty ? nil : .object(ann)
                    template["metadata"] = .object(tmeta)
                    spec["template"] = .object(template)
                    o["spec"] = .object(spec)
                }
                let key = "\(o["kind"]?.stringValue ?? "")/\(meta["name"]?.stringValue ?? "")"
                let liveObject = try #require(live[key], "\(key) rendered but not live")
                #expect(JSONValue.object(o).isSubset(of: liveObject), "\(key): render differs from the applied object at \(differences(.object(o), liveObject).prefix(5))")
            }
        }
        for v in vigils { #expect(await v.terminate() == 0) }
    }

    @Test func changingTheSamplingPercentageChangesOnlyTheConfigAndThePodTemplateHash() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "sampling"
        try await plane.createNamespace(ns)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: "  sampling:\n    percentage: 25\n"))
            let before = try await eventually("the objects") { () -> JSONObject? in
                let s = try await snapshot(plane, ns)
                return s.count == 10 ? s : nil
            }
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"sampling":{"percentage":60}}}"#)
            let after = try await eventually("the new config") { () -> JSONObject? in
                let s = try await snapshot(plane, ns)
                return s["ConfigMap/app-collector"]?["data"]?["config.yaml"]?.stringValue?.contains("sampling_percentage: 60") == true
                    && s["DaemonSet/app-collector"] != before["DaemonSet/app-collector"] ? s : nil
            }
            var changed: [String] = []
            for k in Set(before.keys).union(after.keys).sorted() {
                changed += differences(before[k], after[k]).map { "\(k)\($0)" }
            }
            #expect(
                changed == [
                    "ConfigMap/app-collector.data.config.yaml",
                    "DaemonSet/app-collector.spec.template.metadata.annotations.\(Annotations.configHash)",
                ]
            )
            #expect(await vigil.terminate() == 0)
        }
    }

    @Test func disablingTheGatewayRemovesItsObjects() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "gateway"
        try await plane.createNamespace(ns)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, extra: "  collector:\n    gateway:\n      replicas: 2\n"))
            let with = try await eventually("the gateway") { () -> JSONObject? in
                let s = try await snapshot(plane, ns)
                return s.count == 15 ? s : nil
            }
            #expect(with["NetworkPolicy/app-gateway"] != nil)
            // Drains keep all but one gateway pod.
            #expect(with["PodDisruptionBudget/app-gateway"]?["spec"]?["minAvailable"] == 1)
            #expect(with["PodDisruptionBudget/app-gateway"]?["spec"]?["selector"]?["matchLabels"]?[Labels.component] == "gateway")
            #expect(with["Deployment/app-gateway"]?["spec"]?["replicas"] == 2)
            #expect(with["ConfigMap/app-collector"]?["data"]?["config.yaml"]?.stringValue?.contains("loadbalancing") == true)
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"collector":{"gateway":{"replicas":0}}}}"#)
            let without = try await eventually("the gateway pruned") { () -> JSONObject? in
                let s = try await snapshot(plane, ns)
                return s.count == 10 ? s : nil
            }
            #expect(
                Set(without.keys) == [
                    "ServiceAccount/app-collector", "RoleBinding/\(ns).app-collector", "ConfigMap/app-collector", "Service/app-collector", "Service/app-collector-headless", "DaemonSet/app-collector",
                    "NetworkPolicy/app-collector", "ConfigMap/app-prometheus", "ConfigMap/app-grafana-datasources", "ConfigMap/app-grafana-dashboards",
                ]
            )
            // Prometheus no longer looks for the gateway's telemetry.
            #expect(without["ConfigMap/app-prometheus"]?["data"]?["prometheus.yml"]?.stringValue?.contains("app-gateway-headless") == false)
            #expect(with["ConfigMap/app-prometheus"]?["data"]?["prometheus.yml"]?.stringValue?.contains("app-gateway-headless") == true)
            // The agents no longer talk to a gateway: that egress rule went with it.
            let egress = without["NetworkPolicy/app-collector"]?["spec"]?["egress"]?.arrayValue ?? []
            #expect(!egress.isEmpty && !egress.contains { rule in
                (rule["to"]?.arrayValue ?? []).contains { $0["podSelector"]?["matchLabels"]?[Labels.component] == "gateway" }
            })
            let config = without["ConfigMap/app-collector"]?["data"]?["config.yaml"]?.stringValue ?? ""
            #expect(!config.contains("loadbalancing") && config.contains("tail_sampling"))
            #expect(await vigil.terminate() == 0)
        }
    }
}

func Yams_compose(_ text: String) throws -> JSONValue? {
    let stacks = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.joined(separator: "\n")
    return try StackFile.jsonValue(fromYAMLText: stacks)
}
