import Foundation
import KubeModel
import Render
import Testing
import Yams

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

@Suite struct RenderTests {
    func withUID(_ s: ObservabilityStack) -> ObservabilityStack {
        var s = s
        s.metadata.uid = "1234"
        return s
    }

    @Test func theConfigMapIsOwnedLabelledAndHashed() throws {
        let r = try DesiredState.render(StackContext(withUID(stack(.production))))
        #expect(
            r.objects.map(\.resource.kind) == [
                "ServiceAccount", "RoleBinding", "ConfigMap", "Service", "Service", "DaemonSet", "NetworkPolicy", "ConfigMap", "ConfigMap", "ConfigMap",
            ])
        let cm = try #require(r.objects.first { $0.resource.kind == "ConfigMap" })
        #expect(cm.name == "obs-collector" && cm.namespace == "team")
        let meta = cm.body["metadata"]!
        #expect(meta["labels"]?["app.kubernetes.io/managed-by"] == "vigil")
        #expect(meta["labels"]?["observability.vigil.dev/stack"] == "obs")
        // Argo CD's default tracking label is left to Argo CD.
        #expect(r.objects.allSatisfy { $0.body["metadata"]?["labels"]?["app.kubernetes.io/instance"] == nil })
        let ds = try #require(r.objects.first { $0.resource.kind == "DaemonSet" })
        #expect(ds.body["spec"]?["selector"]?["matchLabels"] == ["observability.vigil.dev/stack": "obs", "app.kubernetes.io/component": "agent"])
        #expect(meta["ownerReferences"]?.arrayValue?.first?["uid"] == "1234")
        #expect(meta["ownerReferences"]?.arrayValue?.first?["controller"] == true)
        #expect(meta["annotations"]?[Annotations.desiredHash] == .string(cm.hash))
    }

    @Test func renderingIsDeterministic() throws {
        let a = try DesiredState.render(StackContext(withUID(stack(.production))))
        for _ in 0..<5 {
            #expect(try DesiredState.render(StackContext(withUID(stack(.production)))) == a)
        }
    }

    /// The status's configHash is the sha256 of the agents' config, then the gateway's when
    /// there is one; the pod templates' hashes add the mounted material's (the hashes are fed
    /// in parts: a change of definition would restart every collector on upgrade).
    @Test(arguments: [false, true])
    func theConfigHashesCoverTheConfigsAsBefore(withGateway: Bool) throws {
        let tempo = ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo:4317"))
        let s = withGateway ? stack(.staging) { $0.exporters = tempo } : stack(.development)
        let rendered = try DesiredState.render(StackContext(withUID(s)), inputs: RenderInputs(mountedMaterialHash: "m"))
        func config(_ suffix: String) -> String? {
            rendered.objects.first { $0.resource.kind == "ConfigMap" && $0.name == "obs-\(suffix)" }?.body["data"]?["config.yaml"]?.stringValue
        }
        func podHash(_ kind: String) -> JSONValue? {
            rendered.objects.first { $0.resource.kind == kind }?.body["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.configHash]
        }
        let agent = try #require(config("collector"))
        let gateway = config("gateway")
        #expect((gateway != nil) == withGateway)
        #expect(rendered.configHash == sha256Hex(Array((agent + (gateway ?? "")).utf8)))
        #expect(podHash("DaemonSet") == .string(sha256Hex(Array((agent + "\nm").utf8))))
        if let gateway { #expect(podHash("Deployment") == .string(sha256Hex(Array((gateway + "\nm").utf8)))) }
    }

    @Test func theSamplingPercentageChangesTheConfigAndItsHash() throws {
        let tempo = ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo:4317"))
        let a = try DesiredState.render(StackContext(withUID(stack(.staging) { $0.exporters = tempo })))
        let b = try DesiredState.render(StackContext(withUID(stack(.staging) { $0.exporters = tempo; $0.sampling = SamplingSpec(percentage: 50) })))
        #expect(a.configHash != b.configHash)
        // Staging samples on its gateway.
        let config = b.objects.first { $0.resource.kind == "ConfigMap" && $0.name.hasSuffix("-gateway") }?.body["data"]?["config.yaml"]?.stringValue ?? ""
        #expect(config.contains("sampling_percentage: 50"))
    }

    @Test func stagingConfigCarriesTLSAndBasicAuthAndDevelopmentDoesNot() throws {
        let staging = CollectorConfig.render(StackContext(stack(.staging)))
        let grpc = staging["receivers"]?["otlp"]?["protocols"]?["grpc"]
        #expect(grpc?["tls"]?["cert_file"] == "/etc/vigil/tls/tls.crt")
        #expect(grpc?["auth"]?["authenticator"] == "basicauth/server")
        let dev = CollectorConfig.render(StackContext(stack(.development)))
        #expect(dev["receivers"]?["otlp"]?["protocols"]?["grpc"]?["tls"] == nil)
        #expect(dev["extensions"]?["basicauth/server"] == nil)
        #expect(dev["processors"]?["memory_limiter"]?["limit_mib"] == 1024)
    }

    @Test func requiredClientAuthVerifiesClientsAgainstTheReloadedBundleAndOptionalDoesNotRequireThem() throws {
        let required = CollectorConfig.render(StackContext(stack(.production) { $0.ingest = IngestSpec(tls: TLSSpec(clientAuth: "Required")) }))
        let tls = required["receivers"]?["otlp"]?["protocols"]?["http"]?["tls"]
        #expect(tls?["client_ca_file"] == "/etc/vigil/tls/ca.crt")
        #expect(tls?["client_ca_file_reload"] == true)
        // The collector's TLS server can only require client certificates, never ask.
        let optional = CollectorConfig.render(StackContext(stack(.production) { $0.ingest = IngestSpec(tls: TLSSpec(clientAuth: "Optional")) }))
        #expect(optional["receivers"]?["otlp"]?["protocols"]?["grpc"]?["tls"]?["client_ca_file"] == nil)
    }

    @Test func credentialsEnterTheConfigOnlyAsEnvironmentReferences() throws {
        let s = stack(.production) {
            $0.exporters = ExportersSpec(
                loki: LokiExporterSpec(endpoint: "https://loki/otlp", credentialsSecret: CredentialsRef(name: "loki-creds")),
                tempo: TempoExporterSpec(endpoint: "tempo:4317", bearerTokenSecret: SecretKeyRef(name: "tempo", key: "token"))
            )
        }
        let ctx = StackContext(s)
        let yaml = try YAMLText.document(CollectorConfig.agent(ctx))
        #expect(yaml.contains("${env:LOKI_PASSWORD}"))
        // Tempo's token: in the gateway, which exports traces in production.
        #expect(try YAMLText.document(try #require(CollectorConfig.gateway(ctx))).contains("${env:TEMPO_BEARER_TOKEN}"))
        #expect(!yaml.contains("loki-creds"))
    }

    @Test func yamlIsSortedAndMultilineStringsAreLiteralBlocks() throws {
        let text = try YAMLText.document(["b": 1, "a": ["x": "line1\nline2\n"], "c": "plain", "d": 1.5])
        #expect(text == "a:\n  x: |\n    line1\n    line2\nb: 1\nc: plain\nd: 1.5\n")
    }

    /// Kubernetes reads YAML 1.1, where these plain scalars are booleans, numbers or null.
    @Test(arguments: ["yes", "No", "on", "OFF", "y", "n", "true", "null", "~", "", "10", "1.5", "0755", "1e3", "0x1f", "1:20", ".inf"])
    func stringsThatReadAsOtherTypesAreQuoted(_ s: String) throws {
        let text = try YAMLText.document(["k": .string(s)])
        #expect(text.hasPrefix("k: '") || text.hasPrefix("k: \""), "\(text)")
        let back = try StackFile.jsonValue(fromYAML: try #require(try Yams.compose(yaml: text)))
        #expect(back == ["k": .string(s)])
    }

    @Test func stackFilesParseAndRenderToTheSameBytesEachTime() throws {
        let text = """
            apiVersion: observability.vigil.dev/v1alpha1
            kind: ObservabilityStack
            metadata:
              name: prod
              namespace: fba
            spec:
              environment: production
              sampling:
                percentage: 12.5
            """
        let stacks = try StackFile.parse(text)
        #expect(stacks.count == 1)
        #expect(stacks[0].spec.sampling?.percentage == 12.5)
        let a = try StackFile.render(text)
        #expect(try StackFile.render(text) == a)
        #expect(a.hasPrefix("---\n# ObservabilityStack fba/prod\n"))
    }

    @Test func anInvalidStackFileSaysWhy() {
        let text = "kind: ObservabilityStack\napiVersion: observability.vigil.dev/v1alpha1\nmetadata: {name: x}\nspec: {environment: production, sampling: {percentage: 300}}\n"
        #expect {
            try StackFile.render(text)
        } throws: { error in
            "\(error)".contains("spec.sampling.percentage")
        }
    }

    @Test(arguments: ["crds", "manifests/crd"])
    func theCommittedCRDMatchesTheModel(_ dir: String) throws {
        let path = repoRoot.appendingPathComponent("\(dir)/observabilitystacks.observability.vigil.dev.yaml")
        let committed = try String(contentsOf: path, encoding: .utf8)
        #expect(committed == (try YAMLText.document(StackCRD.definition)), "\(dir)/ is stale: run scripts/update-golden")
    }

    /// The chart's CRD template is the CRD, wrapped in `crds.enabled` with the `crds.keep`
    /// annotation (what the template adds is taken out again here).
    @Test func theChartsCRDTemplateIsTheModelsCRD() throws {
        let template = try String(contentsOf: repoRoot.appendingPathComponent("charts/vigil/templates/crd.yaml"), encoding: .utf8)
        let added: Set<String> = ["  annotations:", "    helm.sh/resource-policy: keep"]
        let lines = template.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.contains("{{") && !added.contains(String($0)) }
        #expect(lines.joined(separator: "\n") == (try YAMLText.document(StackCRD.definition)), "charts/vigil/templates/crd.yaml is stale: run scripts/update-golden")
        #expect(!(try YAMLText.document(StackCRD.definition)).contains("{{"), "a {{ in the CRD would run as a template in the chart")
    }

    @Test(arguments: ["development", "staging", "production"])
    func theExamplesAreValid(_ name: String) throws {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("examples/\(name).yaml"), encoding: .utf8)
        let stacks = try StackFile.parse(text)
        #expect(stacks.count == 1)
        #expect(stacks.allSatisfy { StackValidator.validate($0).isEmpty })
        #expect(stacks[0].spec.environment.rawValue == name)
    }
}

@Suite struct ClientHeaderTests {
    @Test func theHeaderIsPercentEncodedAndReadsBack() {
        // A password whose base64 has `+`, `/` and `=`: each must survive any SDK's decoding.
        let password = "\u{FB}\u{EF}\u{BF}>?"
        let value = ClientSecret.headers(user: "api-g1", password: password)
        #expect(value.hasPrefix("Authorization=Basic%20"))
        #expect(!value.contains(" ") && !value.dropFirst("Authorization=".count).contains("+") && !value.dropFirst("Authorization=".count).contains("="))
        let back = ClientSecret.credential(fromHeaders: value)
        #expect(back?.user == "api-g1" && back?.password == password)
        #expect(ClientSecret.credential(fromHeaders: "x-other=1,authorization=Basic%20\(Data("u:p".utf8).base64EncodedString())")?.password == "p")
        #expect(ClientSecret.percentEncoded("a b+c/d=e~f") == "a%20b%2Bc%2Fd%3De~f")
    }
}

@Suite struct ClientSecretMetadataTests {
    @Test func extraLabelsAndAnnotationsReachEveryClientSecretAndVigilsOwnWin() throws {
        var spec = StackSpec(environment: .staging)
        var auth = BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "team")])
        auth.clientSecretLabels = ["reloader.stakater.com/match": "true"]
        auth.clientSecretAnnotations = ["team.example/owner": "payments"]
        spec.ingest = IngestSpec(basicAuth: auth)
        var stack = ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
        stack.metadata.uid = "uid-1"
        guard case .success(let ctx) = StackValidator.resolve(stack) else {
            Issue.record("the stack is valid")
            return
        }
        let material = CredentialMaterial(
            generation: 1, phase: "Stable", phaseSince: "2027-01-01T00:00:00Z", rotatedAt: "2027-01-01T00:00:00Z", published: ["api"], handledRequest: nil,
            credentials: [1: ["api": StoredCredential(password: "p", hash: "h")]], htpasswd: "api-g1:h\n",
            clientSecrets: [ClientCredential(client: "api", namespace: "team", username: "api-g1", password: "p", generation: 1)]
        )
        let objects = try DesiredState.render(ctx, inputs: RenderInputs(credentials: material)).objects
        let secret = try #require(objects.first { $0.name == "team.obs-otlp-client" })
        #expect(secret.body["metadata"]?["labels"]?["reloader.stakater.com/match"] == "true")
        #expect(secret.body["metadata"]?["labels"]?["app.kubernetes.io/managed-by"] == "vigil")
        #expect(secret.body["metadata"]?["annotations"]?["team.example/owner"] == "payments")
        #expect(secret.body["metadata"]?["annotations"]?["observability.vigil.dev/credential-generation"] == "1")
    }
}
