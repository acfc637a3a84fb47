import Foundation
import KubeClient
import KubeModel
import Testing

/// The apps' side of the contract Vigil publishes, with a real client: the OpenTelemetry
/// Python SDK's OTLP/gRPC exporter, configured only by a published client Secret (its
/// `OTEL_EXPORTER_OTLP_*` values as the environment, its files at the paths they name),
/// exports a span to a receiver serving the stack's own `<stack>-ingest-tls` certificate,
/// checking client certificates against that Secret's bundle and the BasicAuth header
/// against the stack's own htpasswd file (bcrypt). Through a credential rotation and a CA
/// rollover driven by the clock offset, an app that restarts when Vigil says so (its pod
/// named in status) never gets an export refused; one that never restarts is named before
/// its credential goes. Pods never run here: the test writes their start time as a
/// kubelet would, on Vigil's clock.
@Suite(.serialized) struct ClientContractTests {
    static let sdkScript = repoRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/otlp-sdk/run.sh").path

    /// One app process's view of its client Secret, taken when it started.
    struct App {
        var pod: String
        var env: String
        var files: String
    }

    /// OTLP/HTTP: the SDK's HTTP exporter, with `OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`
    /// and its endpoint from the Secret's `VIGIL_OTLP_HTTP_ENDPOINT` (everything else as
    /// published), exports over HTTPS with BasicAuth and a client certificate to a receiver
    /// on 4318 serving the stack's certificate; a wrong password is refused there too.
    @Test func anSDKAppExportsOverOTLPHTTPWithTheSecretsHTTPEndpoint() async throws {
        guard let python = ProcessInfo.processInfo.environment["VIGIL_OTEL_PYTHON"], FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("VIGIL_OTEL_PYTHON does not name the OpenTelemetry SDK's python: scripts/test installs it (scripts/control-plane otel-python)")
            return
        }
        let plane = try await SharedControlPlane.shared.get()
        let ns = "sdk-http"
        try await plane.createNamespace(ns)
        let secretName = "\(ns).app-otlp-client"
        let work = "\(testRoot)/sdk-http-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: "\(work)/files", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: "\(work)/collector", withIntermediateDirectories: true)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            let extra = "  ingest:\n    tls: {clientAuth: Required}\n    basicAuth:\n      clients: [{name: api, namespace: \(ns)}]\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: extra))
            let data = try await eventually("the client Secret") { try await plane.secretData(ns, secretName) }
            let endpoint = try #require(data["VIGIL_OTLP_HTTP_ENDPOINT"])
            #expect(endpoint == "https://app-collector.\(ns).svc:4318")
            #expect(data["OTEL_EXPORTER_OTLP_ENDPOINT"] == "https://app-collector.\(ns).svc:4317")
            var env = data.filter { $0.key.hasPrefix("OTEL_") && $0.key != "OTEL_EXPORTER_OTLP_ENDPOINT" && $0.key != "OTEL_EXPORTER_OTLP_PROTOCOL" }
            env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
            env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
            let lines = env.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            try lines.joined(separator: "\n").write(toFile: "\(work)/env", atomically: true, encoding: .utf8)
            for key in ["ca.crt", "tls.crt", "tls.key"] { try (try #require(data[key])).write(toFile: "\(work)/files/\(key)", atomically: true, encoding: .utf8) }
            let tls = try #require(try await plane.secretData(ns, "app-ingest-tls"))
            for key in ["tls.crt", "tls.key", "ca.crt"] { try (try #require(tls[key])).write(toFile: "\(work)/collector/\(key)", atomically: true, encoding: .utf8) }
            try (try #require(try await plane.secretData(ns, "app-htpasswd")?["htpasswd"])).write(toFile: "\(work)/collector/htpasswd", atomically: true, encoding: .utf8)
            func export(_ envFile: String) async throws -> String {
                try await run(["bash", Self.sdkScript, python, "\(work)/collector", envFile, "\(work)/files", "app-collector.\(ns).svc", "4318", "--require-client-cert", "--http"])
            }
            let out = try await export("\(work)/env")
            #expect(out.contains("app-exit=0") && out.contains("receiver: accepted api-g1 spans=1"), "\(out)")
            let wrong = lines.map { $0.hasPrefix("OTEL_EXPORTER_OTLP_HEADERS=") ? "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Basic%20" + Data("api-g1:nope".utf8).base64EncodedString().replacingOccurrences(of: "=", with: "%3D") : $0 }
            try wrong.joined(separator: "\n").write(toFile: "\(work)/wrong", atomically: true, encoding: .utf8)
            let refused = try await export("\(work)/wrong")
            #expect(refused.contains("receiver: rejected wrong password") && !refused.contains("app-exit=0"), "\(refused)")
            #expect(await vigil.terminate() == 0)
        }
    }

    @Test func anSDKAppConfiguredByItsClientSecretExportsThroughARotationAndARolloverAndStrangersAreRefused() async throws {
        guard let python = ProcessInfo.processInfo.environment["VIGIL_OTEL_PYTHON"], FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record("VIGIL_OTEL_PYTHON does not name the OpenTelemetry SDK's python: scripts/test installs it (scripts/control-plane otel-python)")
            return
        }
        let plane = try await SharedControlPlane.shared.get()
        let ns = "sdk"
        try await plane.createNamespace(ns)
        try await plane.kubectl("apply", "-f", "-", input: "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: default, namespace: sdk}\n")
        let secretName = "sdk.app-otlp-client"
        let host = "app-collector.sdk.svc"
        let work = "\(testRoot)/sdk-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let offsetFile = "\(work)/clock"
        let day = 86400.0
        var offset = 0.0
        func advance(_ by: Double) throws {
            offset += by
            try String(Int(offset)).write(toFile: offsetFile, atomically: true, encoding: .utf8)
        }
        try advance(0)
        var n = 0
        func dir(_ name: String) throws -> String {
            n += 1
            let d = "\(work)/\(n)-\(name)"
            try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
            return d
        }

        /// A pod that reads the client Secret, started now on Vigil's clock; and the app
        /// process in it, holding what the Secret says at this moment.
        func start(_ pod: String) async throws -> App {
            // Start times are whole seconds: a restart comes in a later second than what it follows.
            try await Task.sleep(nanoseconds: 1_100_000_000)
            try await plane.consumerPod(pod, namespace: ns, secret: secretName, startTime: Date().addingTimeInterval(offset))
            let data = try #require(try await plane.secretData(ns, secretName))
            let d = try dir(pod)
            let env = data.filter { $0.key.hasPrefix("OTEL_") }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
            try env.write(toFile: "\(d)/env", atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: "\(d)/files", withIntermediateDirectories: true)
            for key in ["ca.crt", "tls.crt", "tls.key"] { try data[key]?.write(toFile: "\(d)/files/\(key)", atomically: true, encoding: .utf8) }
            return App(pod: pod, env: "\(d)/env", files: "\(d)/files")
        }
        func stop(_ app: App) async throws {
            try await plane.kubectl("delete", "pod", app.pod, "-n", ns, "--grace-period=0", "--force")
        }
        /// A collector pod that starts now: the stack's serving Secret and htpasswd file.
        func collector() async throws -> String {
            let tls = try #require(try await plane.secretData(ns, "app-ingest-tls"))
            let d = try dir("collector")
            for key in ["tls.crt", "tls.key", "ca.crt"] { try (try #require(tls[key])).write(toFile: "\(d)/\(key)", atomically: true, encoding: .utf8) }
            try (try #require(try await plane.secretData(ns, "app-htpasswd")?["htpasswd"])).write(toFile: "\(d)/htpasswd", atomically: true, encoding: .utf8)
            return d
        }
        /// One export by the app, to a collector that starts now; returns whether it was
        /// accepted and what the app and the receiver said.
        func export(_ app: App) async throws -> (ok: Bool, output: String) {
            let out = try await run(
                ["bash", Self.sdkScript, python, try await collector(), app.env, app.files, host, "4317", "--require-client-cert"],
                environment: ["OFFSET_SECONDS": String(Int(offset))])
            return (out.contains("app-exit=0") && out.contains("receiver: accepted"), out)
        }
        func expectAccepted(_ app: App, _ when: String) async throws {
            let r = try await export(app)
            #expect(r.ok, "\(app.pod)'s export was refused \(when):\n\(r.output)")
        }
        func stack() async throws -> ObservabilityStack { try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "app") }
        func users() async throws -> [String] {
            (try await plane.secretData(ns, "app-htpasswd")?["htpasswd"] ?? "").split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
        }

        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns, extra: ["--resync-period", "1", "--clock-offset-file", offsetFile]) { vigil in
            let extra = """
                  ingest:
                    tls: {clientAuth: Required}
                    basicAuth:
                      clients: [{name: api, namespace: sdk}]
                      rotation: {interval: 3650d, overlap: 1h, maxOverlap: 10d}

                """
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: extra))
            _ = try await eventually("the client Secret") { try await plane.getIfExists(Secret.self, ns, secretName) }
            // An opted-in workload that reads the Secret: Vigil restarts it after each publication.
            try await plane.kubectl("apply", "-f", "-", input: """
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: api, namespace: sdk, annotations: {observability.vigil.dev/restart-on-rotation: app}}
                spec:
                  selector: {matchLabels: {app: api}}
                  template:
                    metadata: {labels: {app: api}}
                    spec:
                      containers: [{name: app, image: registry.example/app:1, envFrom: [{secretRef: {name: \(secretName)}}]}]
                """)

            var api = try await start("api-1")
            let lazy = try await start("lazy-1")
            try await expectAccepted(api, "at first")

            // Strangers: a wrong password, a certificate from another CA.
            let wrong = try dir("wrong")
            let header = try String(contentsOfFile: api.env, encoding: .utf8).split(separator: "\n").map(String.init)
                .map { $0.hasPrefix("OTEL_EXPORTER_OTLP_HEADERS=") ? "OTEL_EXPORTER_OTLP_HEADERS=Authorization=Basic%20" + Data("api-g1:not-the-password".utf8).base64EncodedString().replacingOccurrences(of: "=", with: "%3D") : $0 }
            try header.joined(separator: "\n").write(toFile: "\(wrong)/env", atomically: true, encoding: .utf8)
            var refused = try await export(App(pod: "wrong", env: "\(wrong)/env", files: api.files))
            #expect(!refused.ok && refused.output.contains("receiver: rejected wrong password"), "\(refused.output)")
            let foreign = try dir("foreign")
            try FileManager.default.copyItem(atPath: "\(api.files)/ca.crt", toPath: "\(foreign)/ca.crt")
            try await run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(foreign)/tls.key", "-out", "\(foreign)/tls.crt", "-subj", "/CN=api", "-days", "1"])
            refused = try await export(App(pod: "foreign", env: api.env, files: foreign))
            #expect(!refused.ok && !refused.output.contains("receiver: accepted"), "\(refused.output)")

            // A credential rotation: both pods are named; api restarts when told, lazy never does.
            try await plane.kubectl("annotate", "observabilitystack", "app", "-n", ns, "observability.vigil.dev/rotate-credentials=r1")
            let stale = try await eventually("the pods named in status") { () -> [String]? in
                let s = try await stack().status?.credentials?.staleConsumers
                return s?.count == 2 ? s : nil
            }
            #expect(stale == ["sdk/api-1", "sdk/lazy-1"])
            try await expectAccepted(api, "right after generation 2 was published (it holds generation 1)")
            let restartedAt = try await eventually("the opted-in Deployment restarted") { () -> String? in
                let d = try await plane.kubectl("get", "deployment", "api", "-n", ns, "-o", "jsonpath={.spec.template.metadata.annotations.observability\\.vigil\\.dev/restartedAt}")
                return d.isEmpty ? nil : d
            }
            #expect(restartedAt == (try await stack().status?.credentials?.rotatedAt))
            try await stop(api)
            api = try await start("api-2")
            try await expectAccepted(api, "after restarting onto generation 2")
            try advance(3600 + 60)
            // The overlap is over; lazy still holds generation 1, which stays for it.
            _ = try await eventually("lazy alone named") { try await stack().status?.credentials?.staleConsumers == ["sdk/lazy-1"] ? true : nil }
            try await Task.sleep(nanoseconds: 2_000_000_000)
            #expect(try await users() == ["api-g1", "api-g2"])
            try await expectAccepted(lazy, "while its generation is held for it")
            try await expectAccepted(api, "in the overlap")
            // maxOverlap: generation 1 is forced out, after lazy was named; lazy is refused, api is not.
            try advance(10 * day)
            _ = try await eventually("generation 1 forced out") { try await users() == ["api-g2"] ? true : nil }
            refused = try await export(lazy)
            #expect(!refused.ok && refused.output.contains("receiver: rejected no such user"), "\(refused.output)")
            try await expectAccepted(api, "after generation 1 left")
            try await stop(lazy)

            // Time passes in steps of 20 days (a client certificate lives 90 and is renewed at
            // 60, the one it replaces staying valid to its end): whenever the client Secret
            // carries another certificate than api holds, Vigil names api, which restarts.
            var restarts = 0
            func clientCertificateNotAfter() async throws -> (pem: String, notAfter: Date) {
                let d = try dir("cert")
                let pem = try #require(try await plane.secretData(ns, secretName)?["tls.crt"])
                try pem.write(toFile: "\(d)/tls.crt", atomically: true, encoding: .utf8)
                let out = try await run(["openssl", "x509", "-noout", "-enddate", "-in", "\(d)/tls.crt"])
                let f = DateFormatter()
                f.locale = Locale(identifier: "en_US_POSIX")
                f.timeZone = TimeZone(identifier: "UTC")
                f.dateFormat = "MMM d HH:mm:ss yyyy zzz"
                let value = out.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst("notAfter=".count)
                return (pem, try #require(f.date(from: value.split(separator: " ").joined(separator: " ")), "cannot read \(out)"))
            }
            // The CA (365 days) starts its rollover two thirds in, at day 243: stop before.
            while offset + 20 * day < 240 * day {
                try advance(20 * day)
                // Vigil has looked once the certificate is not due for renewal on its clock.
                let vigilNow = Date().addingTimeInterval(offset)
                let current = try await eventually("the client certificate kept up at day \(Int(offset / day))") { () -> String? in
                    let c = try await clientCertificateNotAfter()
                    return c.notAfter.timeIntervalSince(vigilNow) > 29 * day ? c.pem : nil
                }
                try await expectAccepted(api, "at day \(Int(offset / day))")
                if current != (try String(contentsOfFile: "\(api.files)/tls.crt", encoding: .utf8)) {
                    _ = try await eventually("api named for its renewed client certificate") {
                        try await stack().status?.certificate?.staleConsumers?.contains("sdk/\(api.pod)") == true ? true : nil
                    }
                    try await stop(api)
                    restarts += 1
                    api = try await start("api-r\(restarts)")
                    try await expectAccepted(api, "after restarting at day \(Int(offset / day))")
                }
            }
            #expect(restarts >= 2, "client certificates were renewed \(restarts) times in 230 days")

            // A CA rollover: each phase waits for api, which restarts when named.
            try advance(20 * day)
            _ = try await eventually("NewCAInBundle") { try await stack().status?.certificate?.caPhase == "NewCAInBundle" ? true : nil }
            try await expectAccepted(api, "with the new CA in the bundle (it trusts only the old one)")
            _ = try await eventually("api named for the new bundle") { try await stack().status?.certificate?.staleConsumers == ["sdk/\(api.pod)"] ? true : nil }
            try advance(7 * day + 60)
            try await Task.sleep(nanoseconds: 2_000_000_000)
            #expect(try await stack().status?.certificate?.caPhase == "NewCAInBundle", "the leaf moved while api trusted only the old CA")
            try await expectAccepted(api, "past the grace, still waited for")
            try await stop(api)
            api = try await start("api-3")
            _ = try await eventually("LeafOnNewCA") { try await stack().status?.certificate?.caPhase == "LeafOnNewCA" ? true : nil }
            try await expectAccepted(api, "with the leaf from the new CA")
            // A pod reads its Secret when the kubelet starts it: api-3 was created (not yet
            // started, so not waited for) and the leaf may have moved before it started. Its
            // client certificate is from the new CA then; else the old CA stays for it.
            let newCA = try #require(try await plane.secretData(ns, "app-ca")?["tls.crt"])
            let caFile = "\(try dir("new-ca"))/ca.crt"
            try newCA.write(toFile: caFile, atomically: true, encoding: .utf8)
            let attime = String(Int(Date().timeIntervalSince1970 + offset))
            let onNewCA = (try? await run(["openssl", "verify", "-attime", attime, "-CAfile", caFile, "\(api.files)/tls.crt"]))?.contains(": OK") == true
            if onNewCA {
                try advance(7 * day + 60)
                _ = try await eventually("Stable") { try await stack().status?.certificate?.caPhase == "Stable" ? true : nil }
                try await expectAccepted(api, "after the old CA left (its certificate is from the new one)")
            } else {
                _ = try await eventually("api named for its client certificate") { try await stack().status?.certificate?.staleConsumers == ["sdk/api-3"] ? true : nil }
                try advance(7 * day + 60)
                try await Task.sleep(nanoseconds: 2_000_000_000)
                #expect(try await stack().status?.certificate?.caPhase == "LeafOnNewCA", "the old CA left while api presented a certificate from it")
                try await expectAccepted(api, "past the second grace, still waited for")
                try await stop(api)
                api = try await start("api-4")
            }
            _ = try await eventually("Stable") { try await stack().status?.certificate?.caPhase == "Stable" ? true : nil }
            try await expectAccepted(api, "after the rollover")
            let bundle = try #require(try await plane.secretData(ns, "app-ingest-tls")?["ca.crt"])
            #expect(bundle.components(separatedBy: "BEGIN CERTIFICATE").count == 2, "the old CA left the bundle")
            #expect(!vigil.log.contains("not-the-password"))
            #expect(await vigil.terminate() == 0)
        }
    }
}
