import Foundation
import KubeModel
import Testing
import Yams

/// The Helm chart (`charts/vigil`), rendered by `scripts/chart-render` (Go's text/template,
/// sprig and Helm's own functions; Helm is not installable here): with default values it
/// is `manifests/` apart from Helm's labels, its variants match the overlay, its schema
/// refuses bad values, and what it renders is accepted and applied by the real API server.
@Suite(.serialized) struct ChartTests {
    /// Labels that Helm's conventions add; everything else must be identical.
    static let helmLabels: Set<String> = ["helm.sh/chart", "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version"]
    /// What `kubectl api-versions` would say of a current cluster, for comparison with the
    /// manifests (policy/v1 PodDisruptionBudget).
    static let currentAPIs = ["v1", "apps/v1", "policy/v1", "rbac.authorization.k8s.io/v1", "coordination.k8s.io/v1"]

    static func renderer() async throws -> String {
        if let path = ProcessInfo.processInfo.environment["VIGIL_CHART_RENDER"], FileManager.default.isExecutableFile(atPath: path) {
            return path
        }
        // Outside scripts/test: build it here (seconds, from Debian's Go packages).
        let path = "\(testRoot)/chart-render"
        if !FileManager.default.isExecutableFile(atPath: path) {
            try await run([repoRoot.appendingPathComponent("scripts/chart-render/build").path, path])
        }
        return path
    }

    func render(_ args: [String], apis: [String] = ChartTests.currentAPIs, release: String = "vigil", namespace: String = "vigil-system") async throws -> String {
        let tool = try await Self.renderer()
        return try await run([tool, "--release", release, "--namespace", namespace] + apis.flatMap { ["--api-versions", $0] } + args + [repoRoot.appendingPathComponent("charts/vigil").path])
    }

    /// Objects by kind/namespace/name, as canonical JSON, with Helm's labels taken out of
    /// every label map and selector.
    func objects(_ yaml: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for doc in try Yams.load_all(yaml: yaml) {
            guard var object = doc as? [String: Any] else { continue }
            object = Self.stripHelmLabels(object) as! [String: Any]
            let meta = object["metadata"] as? [String: Any] ?? [:]
            let key = "\(object["kind"] ?? "")/\(meta["namespace"] ?? "")/\(meta["name"] ?? "")"
            #expect(out[key] == nil, "\(key) rendered twice")
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            out[key] = String(decoding: data, as: UTF8.self)
        }
        return out
    }

    static func stripHelmLabels(_ value: Any, key: String = "") -> Any {
        if let map = value as? [String: Any] {
            var result: [String: Any] = [:]
            for (k, v) in map {
                if ["labels", "matchLabels", "selector"].contains(key), helmLabels.contains(k) { continue }
                // The chart keeps its CRD on uninstall (crds.keep); kubectl has no such notion.
                if key == "annotations", k == "helm.sh/resource-policy" { continue }
                if k == "annotations", (v as? [String: Any])?.keys.allSatisfy({ $0 == "helm.sh/resource-policy" }) == true { continue }
                result[k] = stripHelmLabels(v, key: k)
            }
            return result
        }
        if let list = value as? [Any] { return list.map { stripHelmLabels($0, key: key) } }
        return value
    }

    func kustomize(_ path: String) async throws -> String {
        try await run(["kubectl", "kustomize", repoRoot.appendingPathComponent(path).path])
    }

    func expectSame(_ chart: [String: String], _ manifests: [String: String], _ what: String) {
        #expect(Set(chart.keys) == Set(manifests.keys), "\(what): objects differ")
        for (key, m) in manifests.sorted(by: { $0.key < $1.key }) {
            guard let c = chart[key] else { continue }
            #expect(c == m, "\(what): \(key) differs:\nchart:\n\(c)\nmanifests:\n\(m)")
        }
    }

    @Test func withDefaultValuesTheChartIsTheManifestsApartFromHelmsLabels() async throws {
        let manifests = try objects(try await kustomize("manifests"))
        // The Namespace is Helm's to create (--create-namespace) unless namespace.create is set.
        let chart = try objects(try await render(["--include-crds"]))
        #expect(chart["Namespace//vigil-system"] == nil)
        expectSame(chart, manifests.filter { $0.key != "Namespace//vigil-system" }, "default values")
        let withNamespace = try objects(try await render(["--include-crds", "--set", "namespace.create=true"]))
        expectSame(withNamespace, manifests, "namespace.create=true")
        // The same labels on every object, Helm's included.
        let raw = try await render([])
        #expect(raw.components(separatedBy: "app.kubernetes.io/managed-by: Helm").count - 1 == chart.count - 1 + 1 /* pod template */)
    }

    /// The CRD is a template, so that `helm upgrade` carries it; kept on uninstall unless
    /// `crds.keep` is off; left out with `crds.enabled` off.
    @Test func theCRDIsRenderedKeptOrLeftOutAsTheValuesSay() async throws {
        let crd = "CustomResourceDefinition//observabilitystacks.observability.vigil.dev"
        let plain = try await render([])
        #expect(plain.contains("kind: CustomResourceDefinition") && plain.contains("helm.sh/resource-policy: keep"))
        let unkept = try await render(["--set", "crds.keep=false"])
        #expect(unkept.contains("kind: CustomResourceDefinition") && !unkept.contains("helm.sh/resource-policy"))
        let without = try objects(try await render(["--set", "crds.enabled=false"]))
        #expect(without[crd] == nil && without["Deployment/vigil-system/vigil"] != nil)
        // The kept CRD is the manifests' CRD once the annotation is set aside.
        #expect(try objects(plain)[crd] == (try objects(try await kustomize("manifests")))[crd])
    }

    /// `webhook.enabled=false`: no webhook objects, and Vigil serves none.
    @Test func theWebhookCanBeTurnedOff() async throws {
        let on = try objects(try await render([]))
        #expect(on["ValidatingWebhookConfiguration//vigil"] != nil && on["Service/vigil-system/vigil-webhook"] != nil)
        let off = try await render(["--set", "webhook.enabled=false"])
        let offObjects = try objects(off)
        #expect(offObjects.keys.filter { $0.contains("webhook") }.isEmpty, "\(offObjects.keys.sorted())")
        #expect(off.contains("--webhook-bind-address=0") && !off.contains("containerPort: 9443"))
    }

    @Test func aWatchNamespaceIsTheSingleNamespaceOverlay() async throws {
        // The overlay also creates the namespace it watches, for the demo; the chart does not.
        let overlay = try objects(try await kustomize("manifests/overlays/single-namespace")).filter { $0.key != "Namespace//observability" }
        let chart = try objects(try await render(["--include-crds", "--set", "namespace.create=true", "--set", "watchNamespace=observability"]))
        expectSame(chart, overlay, "watchNamespace=observability")
    }

    @Test func theValuesChangeWhatTheyName() async throws {
        let yaml = try await render([
            "--set", "replicas=3", "--set", "logFormat=text", "--set", "image.tag=0.2.0", "--set", "leaderElection.enabled=false",
            "--set-string", "extraLabels.team=platform", "--set", "resources.limits.memory=512Mi", "--set", "metrics.port=9090",
        ])
        let objects = try objects(yaml)
        let deployment = try #require(objects["Deployment/vigil-system/vigil"])
        for fragment in ["\"replicas\" : 3", "--log-format=text", "ghcr.io/vigil-dev/vigil:0.2.0", "\"memory\" : \"512Mi\"", "--metrics-bind-address=:9090", "\"containerPort\" : 9090"] {
            #expect(deployment.contains(fragment), "\(fragment) not in the Deployment")
        }
        #expect(!deployment.contains("--leader-elect"))
        #expect(objects["Role/vigil-system/vigil-leader-election"] == nil)
        // A PodDisruptionBudget with several replicas; with one, none: it would block every drain.
        #expect(objects.keys.contains { $0.hasPrefix("PodDisruptionBudget/") })
        let single = try self.objects(try await render(["--set", "replicas=1", "--set", "leaderElection.enabled=false"]))
        #expect(single["Deployment/vigil-system/vigil"] != nil && !single.keys.contains { $0.hasPrefix("PodDisruptionBudget/") })
        // Log level, extra arguments, priority class, topology spread, monitoring settings,
        // and a parent chart's `global` values.
        let valuesFile = "\(testRoot)/chart-values-\(UUID().uuidString.prefix(6)).yaml"
        try """
            global: {imageRegistry: registry.example}
            logLevel: debug
            extraArgs: ["--workers=4"]
            priorityClassName: platform-critical
            monitoringNamespace: kube-prometheus
            monitoringLabels: {release: prom, team: platform}
            topologySpreadConstraints:
              - maxSkew: 1
                topologyKey: topology.kubernetes.io/zone
                whenUnsatisfiable: ScheduleAnyway
                labelSelector: {matchLabels: {app.kubernetes.io/name: vigil}}
            """.write(toFile: valuesFile, atomically: true, encoding: .utf8)
        let tuned = try #require(try self.objects(try await render(["-f", valuesFile]))["Deployment/vigil-system/vigil"])
        for fragment in ["--log-level=debug", "--workers=4", "\"priorityClassName\" : \"platform-critical\"", "--monitoring-namespace=kube-prometheus",
            "--monitoring-labels=release=prom,team=platform", "\"topologyKey\" : \"topology.kubernetes.io/zone\""] {
            #expect(tuned.contains(fragment), "\(fragment) not in the Deployment")
        }
        #expect(yaml.components(separatedBy: "team: platform").count - 1 == objects.count + 1)
        let digest = try await render(["--set", "image.digest=sha256:" + String(repeating: "ab", count: 32)])
        #expect(digest.contains("image: ghcr.io/vigil-dev/vigil@sha256:abab"))
        // Another release name prefixes every object and keeps the references consistent.
        let other = try await run([try await Self.renderer(), "--release", "obs", "--namespace", "tools", repoRoot.appendingPathComponent("charts/vigil").path])
        #expect(other.contains("serviceAccountName: obs-vigil") && other.contains("name: obs-vigil-leader-election"))
    }

    /// The collector policy's values become `vigil run`'s flags, which the binary accepts and
    /// applies (checked through `vigil render` with the same flags).
    @Test func theCollectorPolicyBecomesVigilsFlags() async throws {
        let values = "\(testRoot)/policy-values-\(UUID().uuidString.prefix(6)).yaml"
        let image = "registry.example/otelcol@sha256:" + String(repeating: "cd", count: 32)
        try """
        collectorPolicy:
          defaultImage: \(image)
          allowedImages: [registry.example/otelcol:a, registry.example/otelcol:b]
          allowedTolerationKeys: [dedicated]
          allowedNodeSelectorKeys: ["*"]
          agentPriorityClass: system-node-critical
        """.write(toFile: values, atomically: true, encoding: .utf8)
        let deployment = try #require(try objects(try await render(["-f", values]))["Deployment/vigil-system/vigil"])
        let flags = [
            "--collector-image=\(image)", "--allowed-collector-images=registry.example/otelcol:a,registry.example/otelcol:b",
            "--allowed-toleration-keys=dedicated", "--allowed-node-selector-keys=*", "--collector-priority-class=system-node-critical",
        ]
        for flag in flags { #expect(deployment.contains(flag), "\(flag) not in the Deployment") }
        #expect(!(try await render([])).contains("--collector-image"), "the defaults add no flag")
        let rendered = try await run([VigilProcess.binary, "render", "-f", repoRoot.appendingPathComponent("examples/development.yaml").path] + flags)
        #expect(rendered.contains("image: \(image)"))
        #expect(rendered.contains("priorityClassName: system-node-critical"))
    }

    @Test func theSchemaRefusesBadValuesNamingThem() async throws {
        let tool = try await Self.renderer()
        let chart = repoRoot.appendingPathComponent("charts/vigil").path
        let cases: [([String], String)] = [
            (["--set", "logFormat=xml"], "logFormat"),
            (["--set", "replicas=-1"], "replicas"),
            (["--set", "watchNamespace=Not_A_Namespace"], "watchNamespace"),
            (["--set", "metrics.port=70000"], "metrics.port"),
            (["--set", "resouces.limits.cpu=1"], "resouces"),
            (["--set", "image.digest=latest"], "image.digest"),
            (["--set", "collectorPolicy.defaultImages=x"], "defaultImages"),
        ]
        for (args, field) in cases {
            await #expect(throws: CommandError.self, "\(args) was accepted") {
                try await run([tool] + args + [chart])
            }
            let result = try await run(["sh", "-c", "\"$0\" \"$@\" 2>&1; true", tool] + args + [chart])
            #expect(result.contains(field), "the error for \(args) does not name \(field): \(result)")
        }
    }

    @Test func theNotesTellHowToApplyAStack() async throws {
        let notes = try await render(["--notes"])
        #expect(notes.contains("installed in namespace vigil-system, watching every namespace"))
        #expect(notes.contains("examples/development.yaml"))
        #expect(notes.contains("get lease vigil.observability.vigil.dev"))
        let scoped = try await render(["--notes", "--set", "watchNamespace=notes-apps"])
        #expect(scoped.contains("watching namespace notes-apps only"))
        // The commands that apply and show the example stack work as printed, against this
        // API server (the example read from the checkout instead of GitHub).
        let plane = try await SharedControlPlane.shared.get()
        let commands = try #require(scoped.components(separatedBy: "Apply the development example").last)
            .replacingOccurrences(of: "\\\n", with: " ")
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { $0.hasPrefix("kubectl ") || $0.hasPrefix("curl ") }
        #expect(commands.count == 3, "\(commands)")
        for command in commands {
            let local = command.replacingOccurrences(
                of: #"curl -fsSL https://raw.githubusercontent.com/vigil-dev/vigil/v[^/]+/examples/development.yaml"#,
                with: "cat \(repoRoot.appendingPathComponent("examples/development.yaml").path)", options: .regularExpression)
            let out = try await run(["bash", "-o", "pipefail", "-c", local], environment: ["KUBECONFIG": plane.kubeconfig])
            #expect(!out.isEmpty, "\(local) printed nothing")
        }
        #expect(try await plane.getIfExists(ObservabilityStack.self, "notes-apps", "fba-bench") != nil)
    }

    /// Rendered against this API server's own API versions (what `helm install` sees), the
    /// chart passes a server-side dry run and is applied: without the ServiceMonitor CRD,
    /// and with it, when the chart adds a ServiceMonitor. A release of its own name, so that
    /// it stands beside the manifests' objects on the shared control plane.
    @Test func theRenderedChartIsAcceptedAndAppliedByTheAPIServer() async throws {
        let plane = try await SharedControlPlane.shared.get()
        for n in ["chart-system", "chart-apps"] { try await plane.createNamespace(n) }
        func served() async throws -> [String] {
            try await plane.kubectl("api-versions").split(separator: "\n").map(String.init)
        }
        var apis = try await served()
        #expect(!apis.contains("policy/v1"), "this test expects the 1.20 API server, PDB policy/v1beta1")
        // No kubelet runs the chart's pods, so its webhook fails open here (and goes after).
        let plain = try await render(["--include-crds", "--set", "webhook.failurePolicy=Ignore"], apis: apis, release: "chartcheck", namespace: "chart-system")
        #expect(plain.contains("kind: ValidatingWebhookConfiguration") && plain.contains("--webhook-configuration=chartcheck-vigil"))
        #expect(plain.contains("apiVersion: policy/v1beta1") && !plain.contains("kind: ServiceMonitor"))
        let dry = try await plane.kubectl("apply", "--dry-run=server", "-f", "-", input: plain)
        #expect(dry.contains("deployment.apps/chartcheck-vigil created (server dry run)"), "\(dry)")
        try await plane.kubectl("apply", "-f", "-", input: plain)
        #expect(try await plane.kubectl("get", "clusterrole", "chartcheck-vigil", "-o", "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}") == "Helm")
        #expect(try await plane.kubectl("get", "deployment", "chartcheck-vigil", "-n", "chart-system", "-o", "jsonpath={.spec.template.spec.serviceAccountName}") == "chartcheck-vigil")

        try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/servicemonitors.monitoring.coreos.com.yaml").path)
        try await plane.kubectl("wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com", "--timeout=30s")
        apis = try await served() + ["monitoring.coreos.com/v1/ServiceMonitor"]
        #expect(apis.contains("monitoring.coreos.com/v1"))
        let monitored = try await render(
            ["--include-crds", "--set", "watchNamespace=chart-apps", "--set", "webhook.failurePolicy=Ignore"], apis: apis, release: "chartcheck", namespace: "chart-system")
        #expect(monitored.contains("kind: ServiceMonitor"))
        _ = try await plane.kubectl("apply", "--dry-run=server", "-f", "-", input: monitored)
        try await plane.kubectl("apply", "-f", "-", input: monitored)
        #expect(try await plane.kubectl("get", "servicemonitor", "chartcheck-vigil", "-n", "chart-system", "-o", "jsonpath={.spec.endpoints[0].port}") == "metrics")
        #expect(try await plane.kubectl("get", "role", "chartcheck-vigil", "-n", "chart-apps", "-o", "name") == "role.rbac.authorization.k8s.io/chartcheck-vigil\n")
        #expect(try await plane.kubectl("get", "role", "chartcheck-vigil-webhook-certificate", "-n", "chart-system", "-o", "name") != "")
        try await plane.kubectl("delete", "validatingwebhookconfiguration", "chartcheck-vigil", "--ignore-not-found")
    }
}
