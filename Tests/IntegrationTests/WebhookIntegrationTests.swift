#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// The validating admission webhook on the real API server: registered by URL to this
/// test's Vigil on loopback, its `caBundle` written by Vigil itself. `kubectl apply` says no
/// at once, naming every bad field; warnings reach the user; the serving certificate
/// rotates under load with no request refused; and with Vigil gone, stack applies fail
/// while nothing else does.
@Suite(.serialized) struct WebhookIntegrationTests {
    static let configuration = "vigil-test"

    @Test func kubectlApplyIsAnsweredByTheWebhookThroughACertificateRotation() async throws {
        try await withOwnControlPlane(name: "webhook") { plane in
            try await plane.installCRD()
            try await scenario(plane)
        }
    }

    static func freePort() async throws -> Int {
        let out = try await run(["python3", "-c", "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return try #require(Int(out.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    static func webhookConfiguration(port: Int) -> String {
        """
        apiVersion: admissionregistration.k8s.io/v1
        kind: ValidatingWebhookConfiguration
        metadata: {name: \(configuration)}
        webhooks:
        - name: observabilitystacks.observability.vigil.dev
          admissionReviewVersions: [v1]
          sideEffects: None
          failurePolicy: Fail
          timeoutSeconds: 5
          clientConfig:
            url: https://127.0.0.1:\(port)/validate
          rules:
          - apiGroups: [observability.vigil.dev]
            apiVersions: ["*"]
            operations: [CREATE, UPDATE]
            resources: [observabilitystacks]
          namespaceSelector:
            matchExpressions:
            - {key: kubernetes.io/metadata.name, operator: NotIn, values: [wh-system]}
        """
    }

    static func stack(_ name: String, _ ns: String, _ spec: String) -> String {
        "apiVersion: observability.vigil.dev/v1alpha1\nkind: ObservabilityStack\nmetadata: {name: \(name), namespace: \(ns)}\nspec:\n  environment: staging\n" + spec
    }

    /// kubectl's answer to an apply: its output, or the error it printed.
    static func apply(_ plane: ControlPlane, _ yaml: String, dryRun: Bool = false) async -> (ok: Bool, output: String) {
        do {
            var args = ["apply", "-f", "-"]
            if dryRun { args.append("--dry-run=server") }
            // Warnings go to standard error: fold it in.
            let out = try await run(["sh", "-c", "kubectl --kubeconfig \(plane.kubeconfig) \(args.joined(separator: " ")) 2>&1"], input: yaml)
            return (true, out)
        } catch {
            return (false, "\(error)")
        }
    }

    func scenario(_ plane: ControlPlane) async throws {
        for n in ["wh-system", "wh-team"] { try await plane.createNamespace(n) }
        let port = try await Self.freePort()
        try await plane.kubectl("apply", "-f", "-", input: Self.webhookConfiguration(port: port))
        let vigil = try VigilProcess(
            kubeconfig: plane.kubeconfig, namespace: nil,
            extra: [
                "--webhook-bind-address", "127.0.0.1:\(port)", "--webhook-namespace", "wh-system", "--webhook-configuration", Self.configuration,
                "--webhook-certificate-ips", "127.0.0.1", "--webhook-certificate-seconds", "195",
            ])
        defer { vigil.kill() }
        // Vigil writes the CA bundle it serves under.
        let written = try? await eventually("the caBundle written") { () -> Bool? in
            let b = try await plane.kubectl("get", "validatingwebhookconfiguration", Self.configuration, "-o", "jsonpath={.webhooks[0].clientConfig.caBundle}")
            return b.isEmpty ? nil : true
        }
        try #require(written != nil, "no caBundle; Vigil's log:\n\(vigil.log.suffix(3000))")
        let secret = try await plane.client.get(Secret.self, namespace: "wh-system", name: "vigil-webhook-tls")
        let keys = Set((secret.data ?? [:]).keys)
        #expect(keys.isSuperset(of: ["tls.crt", "tls.key", "ca.crt"]), "\(keys)")

        // Every hostile or invalid stack of the bad-input cases is refused by kubectl apply,
        // naming its field: a Secret the spec names that does not exist too (the webhook asks
        // the reconciler's gate, as the reconciler would).
        for c in BadInputIntegrationTests.cases {
            let (ok, out) = await Self.apply(plane, Self.stack("bad-\(c.name)", "wh-team", c.spec))
            #expect(!ok, "\(c.name) was admitted")
            #expect(out.contains(c.field), "\(c.name): \(out.prefix(600))")
        }
        // One stack, several bad fields the schema cannot see (it answers first, and alone,
        // for what it can): all named at once, by the webhook.
        let several = """
              collector:
                image: attacker/collector:latest
                batch: {sendBatchSize: 600, sendBatchMaxSize: 500}
                gateway: {replicas: 2, minAvailable: 2}
                fileLogs: {include: [/var/log/pods/*/*/*.log]}
              exporters:
                loki: {endpoint: "https://loki/${env:HOME}"}

            """
        let (severalOK, severalOut) = await Self.apply(plane, Self.stack("several", "wh-team", several))
        #expect(!severalOK)
        #expect(severalOut.contains("denied the request"), "\(severalOut.prefix(600))")
        for field in [
            "spec.collector.image", "spec.collector.batch.sendBatchSize", "spec.collector.gateway.minAvailable", "spec.collector.fileLogs.include[0]",
            "spec.exporters.loki.endpoint",
        ] {
            #expect(severalOut.contains(field), "\(field) not named: \(severalOut.prefix(800))")
        }

        // A valid stack is admitted, with advice as warnings.
        let valid = "  ingest:\n    basicAuth:\n      clients: [{name: api, namespace: elsewhere}]\n  exporters:\n    tempo: {endpoint: \"tempo.example.com:4317\"}\n"
        let (validOK, validOut) = await Self.apply(plane, Self.stack("app", "wh-team", valid))
        #expect(validOK, "\(validOut)")
        #expect(validOut.contains("Warning:") && validOut.contains("tempo.example.com") && validOut.contains("accept-stacks"), "\(validOut)")
        // An update that breaks it is refused, and the stored object stays as it was.
        let stored = try await plane.client.get(ObservabilityStack.self, namespace: "wh-team", name: "app")
        let (brokenOK, brokenOut) = await Self.apply(plane, Self.stack("app", "wh-team", valid + "  sampling: {decisionWait: 1h}\n"))
        #expect(!brokenOK && brokenOut.contains("spec.sampling.decisionWait"), "\(brokenOut.prefix(600))")
        let after = try await plane.client.get(ObservabilityStack.self, namespace: "wh-team", name: "app")
        // (Vigil reconciles it meanwhile, so its status moves: the spec and generation do not.)
        #expect(after.metadata.generation == stored.metadata.generation && after.spec == stored.spec)

        // The serving certificate renews (its life is 195 s here: with the five minutes'
        // backdate it is due 30 s after issue, so one renewal follows another every 30 s)
        // while applies keep coming for 50 s, a span that holds at least one renewal however
        // slow the machine: none is refused.
        func servedSerials() -> [String] {
            vigil.log.split(separator: "\n").filter { $0.contains("webhook serving certificate loaded") }.compactMap { line in
                line.range(of: "serial=").map { String(line[$0.upperBound...].prefix { $0.isHexDigit }) }
            }
        }
        let before = Set(servedSerials())
        #expect(!before.isEmpty)
        var applies = 0
        var refused: [String] = []
        let end = Date().addingTimeInterval(50)
        while Date() < end {
            let (ok, out) = await Self.apply(plane, Self.stack("app", "wh-team", valid), dryRun: true)
            applies += 1
            if !ok { refused.append(out) }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        let renewed = Set(servedSerials()).subtracting(before)
        #expect(!renewed.isEmpty, "the webhook certificate did not renew in 50 s; serials: \(servedSerials())")
        #expect(refused.isEmpty, "\(refused.count) of \(applies) applies refused across \(renewed.count) renewal(s): \(refused.prefix(2))")
        #expect(applies >= 10, "only \(applies) applies in 50 s")

        // Vigil gone: stack applies fail with the webhook's error; nothing else is affected.
        #expect(await vigil.terminate() == 0)
        let (downOK, downOut) = await Self.apply(plane, Self.stack("app2", "wh-team", valid))
        #expect(!downOK && downOut.contains("failed calling webhook"), "\(downOut.prefix(600))")
        let (cmOK, cmOut) = await Self.apply(plane, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: unaffected, namespace: wh-team}\ndata: {a: b}\n")
        #expect(cmOK, "\(cmOut)")
    }
}
