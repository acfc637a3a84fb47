#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// On the real API server: deleting the CA or the credentials record by hand never cuts
/// off a client holding what it was given.
@Suite(.serialized) struct RecoveryIntegrationTests {
    @Test func deletingTheCAOrTheCredentialsRecordCutsOffNoClient() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "recover"
        try await plane.createNamespace(ns)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: recover}\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: clients))
            let clientName = "recover.app-otlp-client"
            let published = try await eventually("the client Secret") { try await plane.secretData(ns, clientName)?["OTEL_EXPORTER_OTLP_HEADERS"] }
            let oldBundle = try #require(try await plane.secretData(ns, "app-ingest-tls")?["ca.crt"])
            let dir = "\(testRoot)/recover-\(UUID().uuidString.prefix(6))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try oldBundle.write(toFile: "\(dir)/old-ca.crt", atomically: true, encoding: .utf8)
            /// The certificate the collector serves, checked by openssl against the bundle a client was given first.
            func servedVerifiesWithTheOldBundle() async throws -> Bool {
                let served = try #require(try await plane.secretData(ns, "app-ingest-tls")?["tls.crt"])
                try served.write(toFile: "\(dir)/served.crt", atomically: true, encoding: .utf8)
                return (try? await run(["openssl", "verify", "-purpose", "sslserver", "-CAfile", "\(dir)/old-ca.crt", "\(dir)/served.crt"]))?.contains("OK") == true
            }
            #expect(try await servedVerifiesWithTheOldBundle())

            // The CA Secret deleted by hand: a new CA joins the bundle, the served
            // certificate does not change, and status and a Warning say so.
            let oldCA = try #require(try await plane.getIfExists(Secret.self, ns, "app-ca"))
            try await plane.kubectl("delete", "secret", "app-ca", "-n", ns)
            _ = try await eventually("a new CA Secret") { () -> Bool? in
                let ca = try await plane.getIfExists(Secret.self, ns, "app-ca")
                return ca != nil && ca?.metadata.uid != oldCA.metadata.uid ? true : nil
            }
            for _ in 0..<5 {
                #expect(try await servedVerifiesWithTheOldBundle(), "a client holding the old bundle no longer verifies the served certificate")
                try await Task.sleep(nanoseconds: 1_000_000_000)
            }
            let bundle = try #require(try await plane.secretData(ns, "app-ingest-tls")?["ca.crt"])
            #expect(bundle.hasPrefix(oldBundle) && bundle.count > oldBundle.count)
            _ = try await eventually("the rollover in status") { () -> Bool? in
                try await plane.getIfExists(ObservabilityStack.self, ns, "app")?.status?.certificate?.caPhase == "NewCAInBundle" ? true : nil
            }
            _ = try await eventually("the CARecovered event") { () -> Bool? in
                try await plane.kubectl("get", "events", "-n", ns, "-o", "yaml").contains("CARecovered") ? true : nil
            }

            // The credentials record deleted by hand: the published credential stays in the
            // collector's file, a new generation is published beside it.
            let raw = Data(base64Encoded: String((published.removingPercentEncoding ?? published).dropFirst("Authorization=Basic ".count))) ?? Data()
            let parts = String(decoding: raw, as: UTF8.self).split(separator: ":", maxSplits: 1).map(String.init)
            #expect(parts.first == "api-g1")
            func accepted(_ user: String, _ password: String) async throws -> Bool {
                let file = try #require(try await plane.secretData(ns, "app-htpasswd")?["htpasswd"])
                try file.write(toFile: "\(dir)/htpasswd", atomically: true, encoding: .utf8)
                return (try? await run(["htpasswd", "-vb", "\(dir)/htpasswd", user, password])) != nil
            }
            try await plane.kubectl("delete", "secret", "app-credentials", "-n", ns)
            let next = try await eventually("generation 2 published") { () -> String? in
                let h = try await plane.secretData(ns, clientName)?["OTEL_EXPORTER_OTLP_HEADERS"]
                return h != published ? h : nil
            }
            #expect(try await accepted(parts[0], parts[1]), "the credential published before the record was lost is refused")
            let nextParts = String(decoding: Data(base64Encoded: String((next.removingPercentEncoding ?? next).dropFirst("Authorization=Basic ".count))) ?? Data(), as: UTF8.self)
                .split(separator: ":", maxSplits: 1).map(String.init)
            #expect(nextParts.first == "api-g2" && nextParts.count == 2 && !nextParts[1].isEmpty)
            #expect(try await accepted(nextParts[0], nextParts[1]))
            _ = try await eventually("the CredentialsRecovered event") { () -> Bool? in
                try await plane.kubectl("get", "events", "-n", ns, "-o", "yaml").contains("CredentialsRecovered") ? true : nil
            }
            #expect(await vigil.terminate() == 0)
        }
    }
}
