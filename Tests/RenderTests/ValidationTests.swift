import KubeModel
import Render
import Testing

func stack(_ env: Environment = .staging, name: String = "obs", _ edit: (inout StackSpec) -> Void = { _ in }) -> ObservabilityStack {
    var spec = StackSpec(environment: env)
    edit(&spec)
    return ObservabilityStack(metadata: ObjectMeta(name: name, namespace: "team"), spec: spec)
}

@Suite struct ValidationTests {
    @Test(arguments: Environment.allCases)
    func aBareStackOfEveryEnvironmentIsValid(_ env: Environment) {
        #expect(StackValidator.validate(stack(env)) == [])
    }

    /// Each case: a sentence, an edit, and the field the error must name.
    static let invalid: [(String, @Sendable (inout StackSpec) -> Void, String)] = [
        ("a spike limit at the memory limit is rejected", { $0.collector = CollectorSpec(memoryLimiter: MemoryLimiterSpec(limitMiB: 512, spikeLimitMiB: 512)) }, "spec.collector.memoryLimiter.spikeLimitMiB"),
        ("a memory limit below 64 MiB is rejected", { $0.collector = CollectorSpec(memoryLimiter: MemoryLimiterSpec(limitMiB: 10, spikeLimitMiB: 1)) }, "spec.collector.memoryLimiter.limitMiB"),
        ("an unknown collector mode is rejected", { $0.collector = CollectorSpec(mode: "StatefulSet") }, "spec.collector.mode"),
        ("a memory limit over 64 GiB is rejected", { $0.collector = CollectorSpec(memoryLimiter: MemoryLimiterSpec(limitMiB: Int.max, spikeLimitMiB: 1)) }, "spec.collector.memoryLimiter.limitMiB"),
        ("a resource quantity the API server cannot parse is rejected", { $0.collector = CollectorSpec(resources: ResourceRequirements(limits: ["cpu": "lots"])) }, "spec.collector.resources.limits.cpu"),
        ("a request with a bad suffix is rejected", { $0.collector = CollectorSpec(resources: ResourceRequirements(requests: ["memory": "1GB"])) }, "spec.collector.resources.requests.memory"),
        ("mode Secret needs a secret name", { $0.ingest = IngestSpec(tls: TLSSpec(mode: "Secret")) }, "spec.ingest.tls.secretName"),
        ("a secret name without mode Secret is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(secretName: "x")) }, "spec.ingest.tls.secretName"),
        ("mTLS without TLS is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(mode: "Disabled", clientAuth: "Required"), basicAuth: BasicAuthSpec(enabled: false)) }, "spec.ingest.tls.clientAuth"),
        ("renewBefore at the duration is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(duration: "30d", renewBefore: "30d")) }, "spec.ingest.tls.renewBefore"),
        ("a malformed duration is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(duration: "ninety days")) }, "spec.ingest.tls.duration"),
        ("a lifetime under an hour is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(duration: "10m")) }, "spec.ingest.tls.duration"),
        ("a key size for ECDSA is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(keySize: 2048)) }, "spec.ingest.tls.keySize"),
        ("an RSA key of 1024 bits is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(keyAlgorithm: "RSA", keySize: 1024)) }, "spec.ingest.tls.keySize"),
        ("a bad IP SAN is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(ipAddresses: ["10.0.0.300"])) }, "spec.ingest.tls.ipAddresses[0]"),
        ("BasicAuth over plaintext outside development is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(mode: "Disabled")) }, "spec.ingest.basicAuth.enabled"),
        ("two clients with one name are rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "a", namespace: "x"), ClientRef(name: "a", namespace: "y")])) }, "spec.ingest.basicAuth.clients[1].name"),
        ("two clients in one namespace are rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "a", namespace: "x"), ClientRef(name: "b", namespace: "x")])) }, "spec.ingest.basicAuth.clients[1].namespace"),
        ("a client namespace that is no DNS label is rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "a", namespace: "Bad_NS")])) }, "spec.ingest.basicAuth.clients[0].namespace"),
        ("an overlap as long as the interval is rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(rotation: RotationSpec(interval: "1d", overlap: "1d"))) }, "spec.ingest.basicAuth.rotation.overlap"),
        ("Vigil's own label on client Secrets is rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [])) ; $0.ingest?.basicAuth?.clientSecretLabels = ["app.kubernetes.io/instance": "other"] }, "spec.ingest.basicAuth.clientSecretLabels.app.kubernetes.io/instance"),
        ("an invalid label value on client Secrets is rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [])) ; $0.ingest?.basicAuth?.clientSecretLabels = ["team": "not valid!"] }, "spec.ingest.basicAuth.clientSecretLabels.team"),
        ("Vigil's own annotation on client Secrets is rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [])) ; $0.ingest?.basicAuth?.clientSecretAnnotations = ["observability.vigil.dev/credential-generation": "9"] }, "spec.ingest.basicAuth.clientSecretAnnotations.observability.vigil.dev/credential-generation"),
        ("a maxOverlap shorter than the overlap is rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(rotation: RotationSpec(overlap: "2d", maxOverlap: "1d"))) }, "spec.ingest.basicAuth.rotation.maxOverlap"),
        ("a maxOverlap as long as the interval is rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(rotation: RotationSpec(interval: "10d", maxOverlap: "10d"))) }, "spec.ingest.basicAuth.rotation.maxOverlap"),
        ("a bcrypt cost below bcrypt's lowest is rejected", { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(bcryptCost: 3)) }, "spec.ingest.basicAuth.bcryptCost"),
        ("a sampling percentage above 100 is rejected", { $0.sampling = SamplingSpec(percentage: 150) }, "spec.sampling.percentage"),
        ("a Loki endpoint without a scheme is rejected", { $0.exporters = ExportersSpec(loki: LokiExporterSpec(endpoint: "loki:3100")) }, "spec.exporters.loki.endpoint"),
        ("skipping Loki TLS verification outside development is rejected", { $0.exporters = ExportersSpec(loki: LokiExporterSpec(endpoint: "https://loki", insecureSkipVerify: true)) }, "spec.exporters.loki.insecureSkipVerify"),
        ("plaintext Tempo outside development is rejected", { $0.exporters = ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo:4317", insecure: true)) }, "spec.exporters.tempo.insecure"),
        ("a bad egress CIDR is rejected", { $0.networkPolicy = NetworkPolicySpec(egressTo: ["10.0.0.0/33"]) }, "spec.networkPolicy.egressTo[0]"),
        ("an empty ingest peer is rejected", { $0.networkPolicy = NetworkPolicySpec(ingestFrom: [PeerSpec()]) }, "spec.networkPolicy.ingestFrom[0]"),
        ("an error ratio above 1 is rejected", { $0.alerting = AlertingSpec(thresholds: AlertThresholds(errorRatio: 5)) }, "spec.alerting.thresholds.errorRatio"),
        // The pipeline's knobs.
        ("a batch larger than the next hop accepts is rejected", { $0.collector = CollectorSpec(batch: BatchSpec(sendBatchMaxSize: 10_000)) }, "spec.collector.batch.sendBatchMaxSize"),
        ("a batch size above its maximum is rejected", { $0.collector = CollectorSpec(batch: BatchSpec(sendBatchSize: 600, sendBatchMaxSize: 500)) }, "spec.collector.batch.sendBatchSize"),
        ("a batch timeout of a day is rejected", { $0.collector = CollectorSpec(batch: BatchSpec(timeout: "1d")) }, "spec.collector.batch.timeout"),
        ("a malformed batch timeout is rejected", { $0.collector = CollectorSpec(batch: BatchSpec(timeout: "soon")) }, "spec.collector.batch.timeout"),
        ("an empty sending queue is rejected", { $0.collector = CollectorSpec(sendingQueue: SendingQueueSpec(size: 0)) }, "spec.collector.sendingQueue.size"),
        ("a budget that would block every drain is rejected", { $0.collector = CollectorSpec(gateway: GatewaySpec(replicas: 2, minAvailable: 2)) }, "spec.collector.gateway.minAvailable"),
        ("a decision wait of an hour is rejected", { $0.sampling = SamplingSpec(decisionWait: "1h") }, "spec.sampling.decisionWait"),
        ("too few traces held for sampling are rejected", { $0.sampling = SamplingSpec(numTraces: 10) }, "spec.sampling.numTraces"),
        ("a bad API server CIDR is rejected", { $0.networkPolicy = NetworkPolicySpec(apiServerCIDRs: ["api.example.com"]) }, "spec.networkPolicy.apiServerCIDRs[0]"),
        // A digit and a combining mark are one Character between "0" and "9" that is no
        // number: the Character-based check trapped on these (the process, webhook and all).
        ("a node CIDR with a combining mark after a digit is rejected", { $0.networkPolicy = NetworkPolicySpec(nodeCIDRs: ["1\u{301}.2.3.4/32"]) }, "spec.networkPolicy.nodeCIDRs[0]"),
        ("an IP SAN with a combining mark after a digit is rejected", { $0.ingest = IngestSpec(tls: TLSSpec(ipAddresses: ["10.0.0.1\u{301}"])) }, "spec.ingest.tls.ipAddresses[0]"),
        ("an IPv6 CIDR in full-width digits is rejected", { $0.networkPolicy = NetworkPolicySpec(nodeCIDRs: ["fd00::\u{FF11}/64"]) }, "spec.networkPolicy.nodeCIDRs[0]"),
    ]

    /// The knobs reach the configs as the collector reads them (Go durations), and the
    /// budget the PodDisruptionBudget.
    @Test func theKnobsReachTheConfigs() throws {
        let s = stack(.production) {
            $0.collector = CollectorSpec(
                gateway: GatewaySpec(replicas: 3, minAvailable: 1), batch: BatchSpec(sendBatchSize: 100, sendBatchMaxSize: 200, timeout: "1500ms"),
                sendingQueue: SendingQueueSpec(persistent: false, size: 42))
            $0.sampling = SamplingSpec(decisionWait: "1m", numTraces: 2000)
            $0.exporters = ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo:4317"))
        }
        #expect(StackValidator.validate(s) == [])
        let ctx = StackContext(s)
        let gateway = try #require(CollectorConfig.gateway(ctx))
        #expect(gateway["processors"]?["batch"] == ["send_batch_size": 100, "send_batch_max_size": 200, "timeout": "1500ms"])
        #expect(gateway["processors"]?["tail_sampling"]?["decision_wait"] == "60s")
        #expect(gateway["processors"]?["tail_sampling"]?["num_traces"] == 2000)
        #expect(gateway["exporters"]?["otlp/tempo"]?["sending_queue"] == ["enabled": true, "queue_size": 42])
        let pdb = GatewayDisruptionBudget.body(ctx, resource: try #require(GatewayDisruptionBudget.resource(kinds: [GatewayDisruptionBudget.discoveryKey(version: "v1")])))
        #expect(pdb["apiVersion"] == "policy/v1" && pdb["spec"]?["minAvailable"] == 1)
        #expect(pdb["spec"]?["selector"]?["matchLabels"]?["app.kubernetes.io/component"] == "gateway")
        // Before 1.21, v1beta1; with no budget asked for, none.
        #expect(GatewayDisruptionBudget.resource(kinds: [GatewayDisruptionBudget.discoveryKey(version: "v1beta1")])?.version == "v1beta1")
        #expect(!GatewayDisruptionBudget.wanted(StackContext(stack(.production) { $0.collector = CollectorSpec(gateway: GatewaySpec(replicas: 1)) })))
    }

    @Test(arguments: 0..<invalid.count)
    func anInvalidSpecNamesTheField(_ i: Int) {
        let (sentence, edit, field) = Self.invalid[i]
        let errors = StackValidator.validate(stack(.staging, edit))
        #expect(errors.map(\.field).contains(field), "\(sentence): got \(errors)")
        #expect(errors.allSatisfy { $0.description.hasPrefix($0.field + ": ") })
    }

    @Test func developmentMayUseInsecureExporters() {
        let s = stack(.development) {
            $0.exporters = ExportersSpec(
                loki: LokiExporterSpec(endpoint: "http://loki:3100/otlp", insecureSkipVerify: true),
                tempo: TempoExporterSpec(endpoint: "tempo:4317", insecure: true)
            )
        }
        #expect(StackValidator.validate(s) == [])
    }

    @Test func anInvalidStackNameIsRejected() {
        #expect(StackValidator.validate(stack(name: "Not_Valid")).map(\.field) == ["metadata.name"])
    }
}
