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

    func edit(_ path: [String], _ value: JSONValue?) -> JSONValue {
        func set(_ v: JSONValue, _ p: ArraySlice<String>) -> JSONValue {
            guard let k = p.first, case .object(var o) = v else { return value ?? .null }
            if p.count == 1 { o[k] = value } else { o[k] = set(o[k] ?? [:], p.dropFirst()) }
            return .object(o)
        }
        return set(valid, path[...])
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
}
