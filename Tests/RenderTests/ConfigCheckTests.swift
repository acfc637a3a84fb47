import KubeModel
import Render
import Testing

@Suite struct ConfigCheckTests {
    let pod = ConfigCheck.Pod(env: ["TOKEN"], mountPaths: ["/etc/otelcol", "/etc/certs"], servicePorts: [4317, 13133])

    /// A small valid config the cases below break one way each.
    var valid: JSONValue {
        [
            "receivers": ["otlp": ["protocols": ["grpc": ["endpoint": "0.0.0.0:4317", "tls": ["cert_file": "/etc/certs/tls.crt"]]]]],
            "processors": ["batch": [:]],
            "exporters": ["otlp/tempo": ["endpoint": "tempo:4317", "auth": ["authenticator": "bearertokenauth/tempo"]], "prometheus": ["endpoint": "127.0.0.1:9000"]],
            "connectors": ["spanmetrics": [:]],
            "extensions": ["health_check": ["endpoint": "0.0.0.0:13133"], "bearertokenauth/tempo": ["token": "${env:TOKEN}"]],
            "service": [
                "extensions": ["health_check", "bearertokenauth/tempo"],
                "pipelines": [
                    "traces": ["receivers": ["otlp"], "processors": ["batch"], "exporters": ["otlp/tempo", "spanmetrics"]],
                    "metrics": ["receivers": ["spanmetrics"], "processors": ["batch"], "exporters": ["prometheus"]],
                ],
            ],
        ]
    }

    /// `base` (the valid config unless given) with the value at `path` replaced.
    func edit(_ path: [String], _ value: JSONValue?, in base: JSONValue? = nil) -> JSONValue {
        func set(_ v: JSONValue, _ p: ArraySlice<String>) -> JSONValue {
            guard let k = p.first, case .object(var o) = v else { return value ?? .null }
            if p.count == 1 { o[k] = value } else { o[k] = set(o[k] ?? [:], p.dropFirst()) }
            return .object(o)
        }
        return set(base ?? valid, path[...])
    }

    @Test func theValidConfigPasses() {
        #expect(ConfigCheck.check(valid, pod: pod) == [])
    }

    @Test(arguments: [
        ("an undefined component in a pipeline", ["service", "pipelines", "traces", "processors"], ["batch", "attributes/x"] as JSONValue, "attributes/x is not defined under processors"),
        ("an unused component", ["processors", "memory_limiter"], ["limit_mib": 100] as JSONValue, "processors.memory_limiter: defined but not used"),
        ("a missing env var", ["extensions", "bearertokenauth/tempo", "token"], "${env:MISSING}" as JSONValue, "${env:MISSING} is not set in the pod"),
        // Only an extension's credential may be a reference, and only Vigil writes it.
        ("an env reference Vigil did not write", ["exporters", "otlp/tempo", "headers"], ["authorization": "Bearer ${env:TOKEN}"] as JSONValue, "the collector would expand \"${env:TOKEN}"),
        ("a file reference", ["exporters", "otlp/tempo", "endpoint"], "${file:/etc/shadow}" as JSONValue, "the collector would expand \"${file:/etc/shadow}"),
        ("a bare variable", ["receivers", "otlp", "protocols", "grpc", "endpoint"], "0.0.0.0:$PORT" as JSONValue, "the collector would expand \"$PORT"),
        ("an unmounted file", ["receivers", "otlp", "protocols", "grpc", "tls", "cert_file"], "/somewhere/else.crt" as JSONValue, "/somewhere/else.crt is not in a mounted volume"),
        ("an exporter in the wrong signal's pipeline", ["service", "pipelines", "traces", "exporters"], ["otlp/tempo", "spanmetrics", "prometheus"] as JSONValue, "prometheus does not carry traces"),
        ("a port the Service does not expose", ["extensions", "health_check", "endpoint"], "0.0.0.0:9999" as JSONValue, "port 9999 is not exposed by the Service"),
        ("a component the image does not ship", ["exporters", "loki"], ["endpoint": "http://loki"] as JSONValue, "exporters.loki: no such exporter"),
        // What receivers read of the node must be mounted.
        ("host metrics without /proc mounted", ["receivers", "hostmetrics"], ["root_path": "/hostfs", "scrapers": ["cpu": [:]]] as JSONValue, "/hostfs/proc is not mounted"),
        ("a log glob outside the mounts", ["receivers", "filelog"], ["include": ["/var/log/pods/n_*/*/*.log"]] as JSONValue, "receivers.filelog.include[0]: /var/log/pods/n_*/*/*.log is not in a mounted volume"),
        ("a connector no pipeline receives from", ["service", "pipelines", "metrics", "receivers"], ["otlp"] as JSONValue, "connectors.spanmetrics: used as an exporter but no pipeline receives from it"),
    ] as [(String, [String], JSONValue, String)])
    func aBrokenConfigIsRejectedWithAClearMessage(_ name: String, _ path: [String], _ value: JSONValue, _ expected: String) {
        let problems = ConfigCheck.check(edit(path, value), pod: pod)
        #expect(problems.contains { $0.contains(expected) }, "\(name): \(problems)")
    }

    @Test func aConnectorJoiningTheWrongSignalsIsRejected() {
        let c = edit(["service", "pipelines", "logs"], ["receivers": ["spanmetrics"], "exporters": ["otlp/tempo"]])
        #expect(ConfigCheck.check(c, pod: pod).contains { $0.contains("cannot join traces to logs") })
    }

    @Test(arguments: Environment.allCases)
    func everyRenderedProfilePassesTheCheck(_ env: Environment) {
        let s = ObservabilityStack(
            metadata: ObjectMeta(name: "s", namespace: "n"),
            spec: StackSpec(
                environment: env,
                collector: CollectorSpec(gateway: GatewaySpec(replicas: 2)),
                exporters: ExportersSpec(
                    loki: LokiExporterSpec(endpoint: "https://loki/otlp", credentialsSecret: CredentialsRef(name: "l"), caSecret: SecretKeyRef(name: "c", key: "ca")),
                    tempo: TempoExporterSpec(endpoint: "tempo:4317", bearerTokenSecret: SecretKeyRef(name: "t", key: "token"), caSecret: SecretKeyRef(name: "c", key: "ca")),
                    remoteWrite: RemoteWriteExporterSpec(url: "https://rw/push", credentialsSecret: CredentialsRef(name: "r"))
                )
            )
        )
        #expect(ConfigCheck.check(StackContext(s)) == [])
        #expect(ConfigCheck.check(StackContext(ObservabilityStack(metadata: ObjectMeta(name: "s", namespace: "n"), spec: StackSpec(environment: env)))) == [])
    }

    /// A pod with a writable storage mount and rights to list pods in `team`.
    let statefulPod = ConfigCheck.Pod(
        env: ["K8S_NODE_NAME"], mountPaths: ["/etc/otelcol", "/var/log/pods", "/var/lib/otelcol/storage"], servicePorts: nil,
        writablePaths: ["/var/lib/otelcol/storage"], podReadNamespaces: ["team"])

    /// Logs from files with checkpoints, k8sattributes for `team`, a persistent queue.
    var stateful: JSONValue {
        [
            "receivers": [
                "filelog": [
                    "include": ["/var/log/pods/team_*/*/*.log"], "storage": "file_storage",
                    "operators": [["type": "container", "id": "container-parser"], ["type": "json_parser", "id": "json-body"]],
                ]
            ],
            "processors": ["k8sattributes/team": ["filter": ["namespace": "team", "node_from_env_var": "K8S_NODE_NAME"]]],
            "exporters": ["otlphttp/loki": ["endpoint": "https://loki/otlp", "sending_queue": ["enabled": true, "storage": "file_storage"]]],
            "extensions": ["file_storage": ["directory": "/var/lib/otelcol/storage", "compaction": ["directory": "/var/lib/otelcol/storage"]]],
            "service": [
                "extensions": ["file_storage"],
                "pipelines": ["logs": ["receivers": ["filelog"], "processors": ["k8sattributes/team"], "exporters": ["otlphttp/loki"]]],
            ],
        ]
    }

    @Test func theStatefulConfigPasses() {
        #expect(ConfigCheck.check(stateful, pod: statefulPod) == [])
    }

    /// A component used without its storage or its permissions is refused.
    @Test(arguments: [
        ("checkpoints with no storage extension", ["service", "extensions"], [] as JSONValue, "receivers.filelog.storage: storage file_storage is not an enabled file_storage extension"),
        ("a queue naming another extension", ["exporters", "otlphttp/loki", "sending_queue", "storage"], "health_check" as JSONValue, "storage health_check is not an enabled file_storage extension"),
        ("storage on a read-only path", ["extensions", "file_storage", "directory"], "/etc/otelcol" as JSONValue, "extensions.file_storage.directory: /etc/otelcol is not a writable mount of the pod"),
        ("compaction in /tmp (the default)", ["extensions", "file_storage", "compaction"], [:] as JSONValue, "extensions.file_storage.compaction.directory: /tmp is not a writable mount"),
        ("pods of a namespace the token may not list", ["processors", "k8sattributes/team", "filter", "namespace"], "other" as JSONValue, "may not list pods in other"),
        ("pods cluster-wide", ["processors", "k8sattributes/team", "filter"], ["node_from_env_var": "K8S_NODE_NAME"] as JSONValue, "filter.namespace: missing"),
        ("a node variable the pod lacks", ["processors", "k8sattributes/team", "filter", "node_from_env_var"], "NODE" as JSONValue, "NODE is not set in the pod"),
        ("an operator type 0.120.1 lacks", ["receivers", "filelog", "operators"], [["type": "container"], ["type": "json_decoder"]] as JSONValue, "no operator type \"json_decoder\""),
        ("two operators with one id", ["receivers", "filelog", "operators"], [["type": "container", "id": "a"], ["type": "json_parser", "id": "a"]] as JSONValue, "id a is used twice"),
    ] as [(String, [String], JSONValue, String)])
    func aComponentWithoutItsStorageOrPermissionsIsRefused(_ name: String, _ path: [String], _ value: JSONValue, _ expected: String) {
        let problems = ConfigCheck.check(edit(path, value, in: stateful), pod: statefulPod)
        #expect(problems.contains { $0.contains(expected) }, "\(name): \(problems)")
    }

    @Test func k8sattributesWithoutAToken() {
        var pod = statefulPod
        pod.podReadNamespaces = nil
        #expect(ConfigCheck.check(stateful, pod: pod).contains("processors.k8sattributes/team: the pod mounts no ServiceAccount token with rights to list pods"))
    }

    /// The rendered pods and configs agree: a stack's agents get exactly the rights and the
    /// writable directory their config needs, with and without each feature.
    @Test(arguments: [(true, true), (true, false), (false, true), (false, false)])
    func theRenderedPodGivesTheConfigWhatItUses(_ attributes: Bool, _ persistent: Bool) {
        var spec = StackSpec(
            environment: .production,
            collector: CollectorSpec(
                gateway: GatewaySpec(replicas: 2), sendingQueue: SendingQueueSpec(persistent: persistent), kubernetesAttributes: KubernetesAttributesSpec(enabled: attributes)),
            exporters: ExportersSpec(loki: LokiExporterSpec(endpoint: "https://loki/otlp"), tempo: TempoExporterSpec(endpoint: "tempo:4317"))
        )
        spec.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "apps")]))
        let ctx = StackContext(ObservabilityStack(metadata: ObjectMeta(name: "s", namespace: "n"), spec: spec))
        #expect(ConfigCheck.check(ctx) == [])
        let agent = CollectorConfig.agent(ctx)
        let k8s = (agent["processors"]?.objectValue ?? [:]).keys.filter { $0.hasPrefix("k8sattributes") }.sorted()
        #expect(k8s == (attributes ? ["k8sattributes/apps", "k8sattributes/n"] : []))
        #expect((agent["exporters"]?["otlphttp/loki"]?["sending_queue"]?["storage"] != nil) == persistent)
        // Checkpoints whatever the queues do.
        #expect(agent["receivers"]?["filelog"]?["storage"] == "file_storage")
        #expect((CollectorConfig.gateway(ctx)?["exporters"]?["otlp/tempo"]?["sending_queue"]?["storage"] != nil) == persistent)
    }
}
