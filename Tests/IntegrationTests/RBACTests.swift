#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// Vigil with nothing but the ServiceAccount of `manifests/` and its RBAC: it reconciles
/// the examples end to end, rotation and client Secrets included, and is never refused.
@Suite(.serialized) struct RBACTests {
    /// The manifests for this 1.20 server (PodDisruptionBudget as policy/v1beta1).
    static func manifests(_ path: String = "manifests") async throws -> String {
        let yaml = try await run(["kubectl", "kustomize", repoRoot.appendingPathComponent(path).path])
        // No kubelet runs Vigil's pods, so the webhook Service has no endpoints: it fails
        // open here. The test's Vigil still serves the webhook and writes its caBundle.
        return yaml.replacingOccurrences(of: "apiVersion: policy/v1\nkind: PodDisruptionBudget", with: "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget")
            .replacingOccurrences(of: "failurePolicy: Fail", with: "failurePolicy: Ignore")
    }

    /// The admission webhook served on loopback: its certificate Secret in vigil-system and
    /// the caBundle of the manifests' ValidatingWebhookConfiguration need their rules.
    static let webhook = ["--webhook-bind-address", "127.0.0.1:0", "--webhook-namespace", "vigil-system"]

    /// A kubeconfig holding only a token of the `vigil` ServiceAccount (TokenRequest).
    static func serviceAccountKubeconfig(_ plane: ControlPlane) async throws -> String {
        let token = try await plane.kubectl("create", "token", "vigil", "-n", "vigil-system", "--duration=2h").trimmingCharacters(in: .whitespacesAndNewlines)
        let admin = try String(contentsOfFile: plane.kubeconfig, encoding: .utf8)
        let tokenLine = admin.split(separator: "\n").first { $0.contains("token:") }.map(String.init) ?? ""
        let path = "\(plane.dir)/vigil-sa.kubeconfig"
        try admin.replacingOccurrences(of: tokenLine, with: "    token: \(token)").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func theServiceAccountAloneReconcilesTheExamplesWithNoForbiddenAnswer() async throws {
        try await withOwnControlPlane(name: "rbac") { plane in
            try await scenario(plane)
        }
    }

    /// The Prometheus Operator's and the Grafana Operator's CRDs, so that Vigil also writes
    /// PrometheusRules, ServiceMonitors and (where a stack asks) AlertmanagerConfigs,
    /// GrafanaDatasources and GrafanaDashboards, and needs their rules.
    static func installMonitoringCRDs(_ plane: ControlPlane) async throws {
        for crd in ["prometheusrules", "servicemonitors", "alertmanagerconfigs"] {
            try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/\(crd).monitoring.coreos.com.yaml").path)
            try await plane.kubectl("wait", "--for=condition=Established", "crd/\(crd).monitoring.coreos.com", "--timeout=30s")
        }
        for crd in ["grafanadatasources", "grafanadashboards"] {
            try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/\(crd).grafana.integreatly.org.yaml").path)
            try await plane.kubectl("wait", "--for=condition=Established", "crd/\(crd).grafana.integreatly.org", "--timeout=30s")
        }
    }

    func scenario(_ plane: ControlPlane) async throws {
        try await Self.installMonitoringCRDs(plane)
        try await plane.createNamespace("vigil-system")
        try await plane.kubectl("apply", "-f", "-", input: try await Self.manifests())
        let kubeconfig = try await Self.serviceAccountKubeconfig(plane)
        try await withVigil(kubeconfig: kubeconfig, namespace: nil, extra: ["--leader-elect", "--leader-election-namespace", "vigil-system"] + Self.webhook) { vigil in
            try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("examples").path)
            for ns in ["fba-dev", "fba-staging", "fba-prod"] {
                _ = try await eventually("\(ns) Ready", timeout: 60) { () -> Bool? in
                    try await plane.getIfExists(ObservabilityStack.self, ns, "fba-bench")?.status?.condition("Ready")?.status == "True" ? true : nil
                }
            }
            // Client Secrets, then a rotation to generation 2.
            _ = try await eventually("the production client Secret") { try await plane.getIfExists(Secret.self, "fba-prod", "fba-prod.fba-bench-otlp-client") }
            try await plane.kubectl("annotate", "observabilitystack", "fba-bench", "-n", "fba-prod", "vigil.dev/rotate-credentials=rbac")
            _ = try await eventually("generation 2 published", timeout: 60) { () -> Bool? in
                try await plane.getIfExists(Secret.self, "fba-prod", "fba-prod.fba-bench-otlp-client")?.metadata.annotations?["observability.vigil.dev/credential-generation"] == "2" ? true : nil
            }
            // With the Prometheus Operator's CRDs served, the rules are PrometheusRules.
            _ = try await eventually("the production PrometheusRule") { () -> Bool? in
                (try? await plane.kubectl("get", "prometheusrule", "fba-bench-alerts", "-n", "fba-prod", "-o", "name")) != nil ? true : nil
            }
            // Deleting a stack releases its finalizer.
            try await plane.kubectl("delete", "observabilitystack", "fba-bench", "-n", "fba-staging", "--wait=false")
            _ = try await eventually("the staging stack gone") { try await plane.getIfExists(ObservabilityStack.self, "fba-staging", "fba-bench") == nil ? true : nil }
            let metrics = try await run(["curl", "-s", try await vigil.endpoint("metrics") + "/metrics"])
            let forbidden = metrics.split(separator: "\n").filter { $0.hasPrefix("rest_client_requests_total") && $0.contains("code=\"403\"") }
            #expect(forbidden.isEmpty, "\(forbidden)")
            #expect(!vigil.log.contains("403 Forbidden"), "\(vigil.log.split(separator: "\n").filter { $0.contains("403") }.prefix(5))")
            #expect(await vigil.terminate() == 0)
        }
    }

    /// Removes each RBAC rule in turn and shows that Vigil then meets a 403: no rule is
    /// there for nothing. The one exception is justified below.
    @Test func everyRuleIsNeededByVigil() async throws {
        try await withOwnControlPlane(name: "rbac-rules") { plane in
            try await rulesScenario(plane)
        }
    }

    func rulesScenario(_ plane: ControlPlane) async throws {
        try await Self.installMonitoringCRDs(plane)
        try await plane.createNamespace("vigil-system")
        try await plane.kubectl("apply", "-f", "-", input: try await Self.manifests())
        let kubeconfig = try await Self.serviceAccountKubeconfig(plane)
        /// (kind, namespace, name) of each role, and its rule count.
        var roles: [(kind: String, ns: String?, name: String)] = [
            ("clusterrole", nil, "vigil"), ("role", "vigil-system", "vigil-leader-election"), ("clusterrole", nil, "vigil-nodes"), ("clusterrole", nil, "vigil-webhook"),
        ]
        var unneeded: [String] = []
        var round = 0
        for role in roles {
            var args = ["get", role.kind, role.name, "-o", "json"]
            if let ns = role.ns { args += ["-n", ns] }
            let original = try await plane.kubectlArgs(args)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(original.utf8)) as? [String: Any])
            let rules = try #require(object["rules"] as? [[String: Any]])
            for i in rules.indices {
                round += 1
                var edited = object
                var less = rules
                let removed = less.remove(at: i)
                edited["rules"] = less
                var meta = edited["metadata"] as? [String: Any] ?? [:]
                meta["resourceVersion"] = nil
                edited["metadata"] = meta
                let json = String(decoding: try JSONSerialization.data(withJSONObject: edited), as: UTF8.self)
                try await plane.kubectl("replace", "-f", "-", input: json)
                // A fresh operator and a fresh stack that uses every feature.
                let ns = "rules-\(round)"
                try await plane.createNamespace(ns)
                // It watches only this round's namespace, so earlier rounds' stacks (whose
                // namespaces are still going) cannot answer for it.
                // Namespaces are read only by an operator that watches every namespace (their
                // consent annotation); every other rule is proved by one that watches this round's.
                let clusterWide = "\(removed["resources"] ?? "")".contains("namespaces")
                let vigil = try VigilProcess(
                    kubeconfig: kubeconfig, namespace: clusterWide ? nil : ns,
                    extra: ["--leader-elect", "--leader-election-namespace", "vigil-system", "--leader-election-id", "rules-\(round)"] + Self.webhook
                )
                let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: \(ns)}\n  alerting:\n    alertmanagerConfig: {enabled: true}\n  grafana:\n    operator: {enabled: true, instanceLabels: {dashboards: grafana}}\n"
                // Staging's own topology: a gateway, with its PodDisruptionBudget.
                try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: clients, gateway: nil))
                // A pod that reads the client Secret and started before it was published: the
                // opt-in restarts then look for workloads (Deployments, StatefulSets, DaemonSets).
                try await plane.kubectl("apply", "-f", "-", input: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: \(ns)}\n")
                try await plane.kubectl("apply", "-f", "-", input: """
                    apiVersion: v1
                    kind: Pod
                    metadata: {name: api, namespace: \(ns)}
                    spec:
                      automountServiceAccountToken: false
                      containers: [{name: api, image: registry.example/api:1, envFrom: [{secretRef: {name: \(ns).app-otlp-client}}]}]
                    """)
                try await plane.kubectl("patch", "pod", "api", "-n", ns, "--subresource=status", "--type=merge", "-p", #"{"status":{"startTime":"2020-01-01T00:00:00Z","phase":"Running"}}"#)
                let url = try await vigil.endpoint("metrics") + "/metrics"
                let refused = try? await eventually("a 403 without rule \(removed)", timeout: 20) { () -> Bool? in
                    let text = try await run(["curl", "-s", url])
                    return text.contains("code=\"403\"") ? true : nil
                }
                vigil.kill()
                if refused == nil { unneeded.append("\(role.name): \(removed["resources"] ?? "")") }
                // Put the rule back, and remove the stack with the full rights.
                var whole = object
                whole["metadata"] = meta
                try await plane.kubectl("replace", "-f", "-", input: String(decoding: try JSONSerialization.data(withJSONObject: whole), as: UTF8.self))
                try await plane.kubectl("delete", "namespace", ns, "--wait=false")
            }
        }
        roles.removeAll()
        // observabilitystacks/finalizers (update) is only checked by the
        // OwnerReferencesPermissionEnforcement admission plugin, which this API server does
        // not run; clusters that do refuse owner references with blockOwnerDeletion without it.
        #expect(unneeded.count == 1 && unneeded.first?.contains("observabilitystacks/finalizers") == true, "rules Vigil did without: \(unneeded)")
    }
}
