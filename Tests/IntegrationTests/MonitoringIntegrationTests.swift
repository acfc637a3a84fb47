#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Render
import Testing

/// The monitoring objects on the real API server: the Prometheus ConfigMap becomes a
/// PrometheusRule (and a ServiceMonitor) when the Prometheus Operator's CRDs are installed,
/// and comes back when they are removed; the receivers' secrets are nowhere but the
/// Alertmanager Secret.
@Suite(.serialized) struct MonitoringIntegrationTests {
    @Test func rulesMoveBetweenTheConfigMapAndAPrometheusRuleAsTheCRDComesAndGoes() async throws {
        // Its own control plane: installing the CRDs changes what every Vigil renders.
        try await withOwnControlPlane(name: "monitoring") { plane in
            try await scenario(plane)
        }
    }

    func scenario(_ plane: ControlPlane) async throws {
        try await plane.installCRD()
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: nil, extra: ["--monitoring-discovery-interval", "1", "--log-format", "json"]) { vigil in
            try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("examples/production.yaml").path)
            let ns = "fba-prod"
            func exists(_ kind: String, _ name: String) async -> Bool {
                (try? await plane.kubectl("get", kind, name, "-n", ns, "-o", "name")) != nil
            }
            _ = try await eventually("Ready", timeout: 60) { () -> Bool? in
                try await plane.getIfExists(ObservabilityStack.self, ns, "fba-bench")?.status?.condition("Ready")?.status == "True" ? true : nil
            }
            // No Prometheus Operator: the ConfigMap, with both files; Grafana's ConfigMaps; the
            // Alertmanager Secret with the receivers.
            let cm = try #require(try await plane.getIfExists(ConfigMap.self, ns, "fba-bench-prometheus"))
            #expect(cm.data?["prometheus.yml"]?.contains("job_name: otel-collector") == true)
            #expect(cm.data?["alerts.yml"]?.contains("alert: OtelCollectorDown") == true)
            let datasources = try #require(try await plane.getIfExists(ConfigMap.self, ns, "fba-bench-grafana-datasources"))
            #expect(datasources.metadata.labels?["grafana_datasource"] == "1")
            #expect(try await plane.getIfExists(ConfigMap.self, ns, "fba-bench-grafana-dashboards")?.metadata.labels?["grafana_dashboard"] == "1")
            let alertmanager = try #require(try await plane.getIfExists(Secret.self, ns, "fba-bench-alertmanager"))
            let amConfig = try #require(alertmanager.data?[AlertmanagerConfig.key].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) })
            #expect(amConfig.contains("https://hooks.slack.com/services/REPLACE/ME/production"))
            #expect(amConfig.contains("REPLACE-ME-PAGERDUTY-ROUTING-KEY"))
            #expect(alertmanager.metadata.ownerReferences?.first?.name == "fba-bench")

            // The Prometheus Operator's CRDs appear: a PrometheusRule and a ServiceMonitor, and
            // the ConfigMap goes.
            for crd in ["prometheusrules", "servicemonitors"] {
                try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/\(crd).monitoring.coreos.com.yaml").path)
            }
            _ = try await eventually("a PrometheusRule", timeout: 30) { await exists("prometheusrule", "fba-bench-alerts") ? true : nil }
            _ = try await eventually("a ServiceMonitor", timeout: 30) { await exists("servicemonitor", "fba-bench-collector") ? true : nil }
            _ = try await eventually("the ConfigMap pruned", timeout: 30) { try await plane.getIfExists(ConfigMap.self, ns, "fba-bench-prometheus") == nil ? true : nil }
            let alerts = try await plane.kubectl("get", "prometheusrule", "fba-bench-alerts", "-n", ns, "-o", "jsonpath={.spec.groups[0].rules[*].alert}")
            #expect(alerts.split(separator: " ").count == 9 && alerts.contains("HighLatencyP95_HTTP"))
            let owner = try await plane.kubectl("get", "prometheusrule", "fba-bench-alerts", "-n", ns, "-o", "jsonpath={.metadata.ownerReferences[0].name}")
            #expect(owner == "fba-bench")
            // Steady: the PrometheusRule is not re-applied on every reconcile.
            let rv = try await plane.kubectl("get", "prometheusrule", "fba-bench-alerts", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}")
            try await plane.kubectl("annotate", "observabilitystack", "fba-bench", "-n", ns, "test/poke=1")
            try await Task.sleep(nanoseconds: 3_000_000_000)
            #expect(try await plane.kubectl("get", "prometheusrule", "fba-bench-alerts", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}") == rv)
            // Edited by hand: put back.
            try await plane.kubectl("patch", "prometheusrule", "fba-bench-alerts", "-n", ns, "--type=merge", "-p", #"{"spec":{"groups":[{"name":"x","rules":[{"alert":"X","expr":"vector(1)"}]}]}}"#)
            try await plane.kubectl("annotate", "observabilitystack", "fba-bench", "-n", ns, "test/poke=2", "--overwrite")
            _ = try await eventually("the PrometheusRule restored", timeout: 30) { () -> Bool? in
                let names = try await plane.kubectl("get", "prometheusrule", "fba-bench-alerts", "-n", ns, "-o", "jsonpath={.spec.groups[0].name}")
                return names == "vigil.fba-prod.fba-bench" ? true : nil
            }

            // The CRDs go: the ConfigMap comes back.
            try await plane.kubectl("delete", "crd", "prometheusrules.monitoring.coreos.com", "servicemonitors.monitoring.coreos.com")
            _ = try await eventually("the ConfigMap back", timeout: 30) { try await plane.getIfExists(ConfigMap.self, ns, "fba-bench-prometheus") }
            _ = try await eventually("Ready again", timeout: 30) { () -> Bool? in
                try await plane.getIfExists(ObservabilityStack.self, ns, "fba-bench")?.status?.condition("Ready")?.status == "True" ? true : nil
            }
            #expect(vigil.log.contains("PrometheusRule is served") && vigil.log.contains("PrometheusRule is not served"))

            // The receivers' secrets: in the user's Secret and the Alertmanager Secret, nowhere else.
            let sentinels = ["https://hooks.slack.com/services/REPLACE/ME/production", "REPLACE-ME-PAGERDUTY-ROUTING-KEY"]
            let b64 = sentinels.map { Data($0.utf8).base64EncodedString() }
            var places: [String] = []
            for kind in ["configmaps", "secrets", "events", "services", "daemonsets", "deployments", "networkpolicies", "observabilitystacks"] {
                let list = try await plane.kubectl("get", kind, "-A", "-o", "json")
                guard let object = try JSONSerialization.jsonObject(with: Data(list.utf8)) as? [String: Any], let items = object["items"] as? [[String: Any]] else { continue }
                for item in items {
                    let meta = item["metadata"] as? [String: Any] ?? [:]
                    let name = "\(kind)/\(meta["namespace"] ?? "")/\(meta["name"] ?? "")"
                    if name == "secrets/\(ns)/alert-receivers" || name == "secrets/\(ns)/fba-bench-alertmanager" { continue }
                    let text = String(decoding: try JSONSerialization.data(withJSONObject: item, options: [.withoutEscapingSlashes]), as: UTF8.self)
                    if zip(sentinels, b64).contains(where: { text.contains($0.0) || text.contains($0.1) }) { places.append(name) }
                }
            }
            #expect(places.isEmpty, "receiver secrets found in \(places)")
            let log = vigil.log
            #expect(!sentinels.contains { log.contains($0) }, "a receiver secret is in Vigil's log")
            #expect(await vigil.terminate() == 0)
        }
    }

    /// A missing receiver Secret is named in status, and nothing new is applied until it
    /// exists; then the Alertmanager Secret follows.
    @Test func aMissingReceiverSecretIsNamedInStatus() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "alerting-refs"
        try await plane.createNamespace(ns)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            let receivers = "  alerting:\n    receivers:\n      pagerDuty:\n        routingKeySecret: {name: pd, key: routing-key}\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "development", extra: receivers))
            let refused = try await eventually("ConfigValid=False naming the Secret") { () -> Condition? in
                let c = try await plane.getIfExists(ObservabilityStack.self, ns, "app")?.status?.condition("ConfigValid")
                return c?.reason == "SecretNotFound" ? c : nil
            }
            #expect(refused.message.contains("spec.alerting.receivers.pagerDuty.routingKeySecret") && refused.message.contains("pd"))
            try await plane.kubectl("create", "secret", "generic", "pd", "-n", ns, "--from-literal=routing-key=sentinel-routing-key-42")
            func config() async throws -> String? { try await plane.secretData(ns, "app-alertmanager")?[AlertmanagerConfig.key] }
            let first = try await eventually("the Alertmanager Secret") { try await config() }
            #expect(first.contains("routing_key: sentinel-routing-key-42"))
            // A changed key follows, through the Secret watch.
            try await plane.kubectl("create", "secret", "generic", "pd", "-n", ns, "--from-literal=routing-key=sentinel-routing-key-43", "--dry-run=client", "-o", "yaml")
                .write(toFile: "\(plane.dir)/pd.yaml", atomically: true, encoding: .utf8)
            try await plane.kubectl("apply", "-f", "\(plane.dir)/pd.yaml")
            _ = try await eventually("the new routing key") { () -> Bool? in
                try await config()?.contains("sentinel-routing-key-43") == true ? true : nil
            }
            // Vigil's cache keeps the Secret's values as digests only, and still compares it:
            // a reconcile with nothing changed writes nothing, and an edit by hand that
            // keeps the hash annotation is put back.
            func version() async throws -> String { try await plane.kubectl("get", "secret", "app-alertmanager", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}") }
            // (An apply that changes nothing leaves the resourceVersion as it was, so the
            // applies are counted in Vigil's log, which names each object it applies.)
            func applies() -> Int { vigil.log.components(separatedBy: "secrets/\(ns)/app-alertmanager").count }
            let settled = try await version()
            let applied = applies()
            try await plane.kubectl("annotate", "observabilitystack", "app", "-n", ns, "test/poke=1")
            try await Task.sleep(nanoseconds: 3_000_000_000)
            #expect(try await version() == settled)
            #expect(applies() == applied, "the Alertmanager Secret was applied again with nothing changed")
            let edited = Data("route: {receiver: x}\nreceivers: [{name: x}]\n".utf8).base64EncodedString()
            try await plane.kubectl("patch", "secret", "app-alertmanager", "-n", ns, "--type=merge", "-p", "{\"data\":{\"\(AlertmanagerConfig.key)\":\"\(edited)\"}}")
            _ = try await eventually("the edited Alertmanager Secret put back") { () -> Bool? in
                try await config()?.contains("sentinel-routing-key-43") == true ? true : nil
            }
            #expect(!vigil.log.contains("sentinel-routing-key"))
            try await plane.kubectl("delete", "namespace", ns, "--wait=false")
        }
    }

    /// For a shared Alertmanager: where the Prometheus Operator's AlertmanagerConfig is
    /// served and the spec asks for it, the routes and receivers go there, the receivers'
    /// Secrets referenced (not copied), and the alertmanager.yaml Secret goes; turned off,
    /// the AlertmanagerConfig goes and the Secret comes back.
    @Test func anAlertmanagerConfigReplacesTheAlertmanagerSecretWhereServedAndAskedFor() async throws {
        try await withOwnControlPlane(name: "amcfg") { plane in
            try await plane.installCRD()
            let fixture = repoRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/alertmanagerconfigs.monitoring.coreos.com.yaml").path
            try await plane.kubectl("apply", "-f", fixture)
            try await plane.kubectl("wait", "--for=condition=Established", "crd/alertmanagerconfigs.monitoring.coreos.com", "--timeout=30s")
            let ns = "fba-prod"
            try await withVigil(kubeconfig: plane.kubeconfig, namespace: nil, extra: ["--monitoring-labels", "release=kube-prometheus-stack"]) { vigil in
                try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("examples/production.yaml").path)
                try await plane.kubectl(
                    "patch", "observabilitystack", "fba-bench", "-n", ns, "--type=merge", "-p",
                    #"{"spec":{"alerting":{"alertmanagerConfig":{"enabled":true,"labels":{"alertmanagerConfig":"shared"}}}}}"#)
                let live = try await eventually("the AlertmanagerConfig", timeout: 60) { () -> JSONValue? in
                    guard let text = try? await plane.kubectl("get", "alertmanagerconfig", "fba-bench-alerts", "-n", ns, "-o", "json") else { return nil }
                    return try JSONCoding.decode(JSONValue.self, from: Data(text.utf8))
                }
                let stack = try #require(try await plane.getIfExists(ObservabilityStack.self, ns, "fba-bench"))
                // Stored as written: the CRD's structural schema prunes any field it does not know.
                let rendered = AlertmanagerConfigObject.body(StackContext(stack))
                #expect(live["spec"] == rendered["spec"])
                #expect(live["metadata"]?["labels"]?["alertmanagerConfig"] == "shared" && live["metadata"]?["labels"]?["release"] == "kube-prometheus-stack")
                #expect(live["metadata"]?["ownerReferences"]?.arrayValue?.first?["name"] == "fba-bench")
                let receivers = live["spec"]?["receivers"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
                #expect(receivers == ["null", "pagerduty", "slack", "email"])
                let pagerDuty = live["spec"]?["receivers"]?.arrayValue?.first { $0["name"] == "pagerduty" }
                #expect(pagerDuty?["pagerdutyConfigs"]?.arrayValue?.first?["routingKey"] == ["name": "alert-receivers", "key": "pagerduty-routing-key"])
                _ = try await eventually("the alertmanager.yaml Secret gone", timeout: 30) {
                    try await plane.getIfExists(Secret.self, ns, "fba-bench-alertmanager") == nil ? true : nil
                }
                // The receivers' secrets are referenced: their values are in no object Vigil wrote.
                let text = try await plane.kubectl("get", "alertmanagerconfig", "fba-bench-alerts", "-n", ns, "-o", "json")
                #expect(!text.contains("REPLACE-ME-PAGERDUTY-ROUTING-KEY") && !text.contains("hooks.slack.com"))

                // Turned off: the AlertmanagerConfig goes, the Secret comes back.
                try await plane.kubectl("patch", "observabilitystack", "fba-bench", "-n", ns, "--type=merge", "-p", #"{"spec":{"alerting":{"alertmanagerConfig":{"enabled":false}}}}"#)
                _ = try await eventually("the Secret back", timeout: 30) { try await plane.getIfExists(Secret.self, ns, "fba-bench-alertmanager") }
                _ = try await eventually("the AlertmanagerConfig pruned", timeout: 30) { () -> Bool? in
                    (try? await plane.kubectl("get", "alertmanagerconfig", "fba-bench-alerts", "-n", ns, "-o", "name")) == nil ? true : nil
                }
                #expect(await vigil.terminate() == 0)
            }
        }
    }

    /// The Grafana Operator: where its CRDs are served and the spec asks for it, a
    /// GrafanaDatasource per backend and a GrafanaDashboard replace the sidecar's ConfigMaps,
    /// stored exactly as rendered (the operator's schema refuses an undeclared field); turned
    /// off, they go and the ConfigMaps come back.
    @Test func theGrafanaOperatorsObjectsReplaceTheSidecarConfigMapsWhereServedAndAskedFor() async throws {
        try await withOwnControlPlane(name: "grafana-operator") { plane in
            try await plane.installCRD()
            for crd in ["grafanadatasources", "grafanadashboards"] {
                try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/\(crd).grafana.integreatly.org.yaml").path)
                try await plane.kubectl("wait", "--for=condition=Established", "crd/\(crd).grafana.integreatly.org", "--timeout=30s")
            }
            let ns = "fba-prod"
            try await withVigil(kubeconfig: plane.kubeconfig, namespace: nil) { vigil in
                try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("examples/production.yaml").path)
                _ = try await eventually("the sidecar ConfigMaps", timeout: 60) { try await plane.getIfExists(ConfigMap.self, ns, "fba-bench-grafana-datasources") }
                try await plane.kubectl(
                    "patch", "observabilitystack", "fba-bench", "-n", ns, "--type=merge", "-p",
                    #"{"spec":{"grafana":{"operator":{"enabled":true,"instanceLabels":{"dashboards":"grafana"}}}}}"#)
                func live(_ kind: String, _ name: String) async throws -> JSONValue? {
                    guard let text = try? await plane.kubectl("get", kind, name, "-n", ns, "-o", "json") else { return nil }
                    return try JSONCoding.decode(JSONValue.self, from: Data(text.utf8))
                }
                let dashboard = try await eventually("the GrafanaDashboard", timeout: 60) { try await live("grafanadashboard", "fba-bench-grafana-overview") }
                let stack = try #require(try await plane.getIfExists(ObservabilityStack.self, ns, "fba-bench"))
                let ctx = StackContext(stack)
                #expect(dashboard["spec"] == (try GrafanaOperatorRender.dashboard(ctx))["spec"])
                for rendered in GrafanaOperatorRender.datasources(ctx) {
                    let name = rendered["metadata"]?["name"]?.stringValue ?? ""
                    let stored = try await eventually("GrafanaDatasource \(name)") { try await live("grafanadatasource", name) }
                    #expect(stored["spec"] == rendered["spec"], "\(name)")
                    #expect(stored["metadata"]?["ownerReferences"]?.arrayValue?.first?["name"] == "fba-bench")
                }
                _ = try await eventually("the sidecar ConfigMaps pruned", timeout: 30) { () -> Bool? in
                    let a = try await plane.getIfExists(ConfigMap.self, ns, "fba-bench-grafana-datasources")
                    let b = try await plane.getIfExists(ConfigMap.self, ns, "fba-bench-grafana-dashboards")
                    return a == nil && b == nil ? true : nil
                }
                // No secret of the backends' in what Vigil wrote: they are referenced.
                let text = try await plane.kubectl("get", "grafanadatasources", "-n", ns, "-o", "json")
                #expect(text.contains("\"secretKeyRef\"") && text.contains("${token}"))
                #expect(!text.contains("REPLACE-ME"), "a backend's secret value in a GrafanaDatasource")

                // Turned off: they go, the ConfigMaps come back.
                try await plane.kubectl("patch", "observabilitystack", "fba-bench", "-n", ns, "--type=merge", "-p", #"{"spec":{"grafana":{"operator":{"enabled":false}}}}"#)
                _ = try await eventually("the ConfigMaps back", timeout: 30) { try await plane.getIfExists(ConfigMap.self, ns, "fba-bench-grafana-dashboards") }
                _ = try await eventually("the operator's objects pruned", timeout: 30) { () -> Bool? in
                    let left = try await plane.kubectl("get", "grafanadatasources,grafanadashboards", "-n", ns, "-o", "name")
                    return left.isEmpty ? true : nil
                }
                #expect(await vigil.terminate() == 0)
            }
        }
    }
}

