import Foundation
import KubeModel
import Logging
import Render
import Rotation
import Synchronization
import TestSupport
import Testing

@testable import Controller

/// The webhook server as the API server meets it: TLS, `POST /validate`, a review in and
/// out (curl as the client, checking the certificate against its CA), and a certificate
/// from `--webhook-cert-dir` renewed in the files and served without a restart.
@Suite struct WebhookServerTests {
    static func review(_ spec: String) -> String {
        """
        {"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u-1","operation":"CREATE","namespace":"team","name":"app",
        "object":{"apiVersion":"observability.vigil.dev/v1alpha1","kind":"ObservabilityStack","metadata":{"name":"app","namespace":"team"},"spec":\(spec)}}}
        """
    }

    /// A CA and a leaf for the webhook Service's name and 127.0.0.1.
    static func pair(_ dir: URL, _ label: String) throws -> (ca: String, cert: String, key: String) {
        let now = Date()
        let ca = try PKI.issueCA(commonName: "test \(label)", now: now, duration: 86400)
        let leaf = try PKI.issueLeaf(
            ca: ca, commonName: "vigil-webhook.vigil-system.svc", dnsNames: ["vigil-webhook.vigil-system.svc"], ipAddresses: ["127.0.0.1"], usage: .server,
            now: now, duration: 3600)
        let caPath = dir.appendingPathComponent("ca-\(label).crt").path
        try ca.certificatePEM.write(toFile: caPath, atomically: true, encoding: .utf8)
        return (caPath, leaf.certificatePEM, leaf.privateKeyPEM)
    }

    @Test func theServerAnswersReviewsOverTLSAndServesRenewedFilesWithoutARestart() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("webhook-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func install(_ p: (ca: String, cert: String, key: String)) throws {
            try p.cert.write(to: dir.appendingPathComponent("tls.crt"), atomically: true, encoding: .utf8)
            try p.key.write(to: dir.appendingPathComponent("tls.key"), atomically: true, encoding: .utf8)
        }
        let first = try Self.pair(dir, "a")
        try install(first)
        let logger = Logger(label: "test")
        let tls = WebhookTLS()
        let files = WebhookCertificateFiles(directory: dir.path, tls: tls, logger: logger)
        _ = try files.load()
        let bound = Mutex<Int?>(nil)
        let server = WebhookServer(host: "127.0.0.1", port: 0, tls: tls, policy: .standard, logger: logger) { p in bound.withLock { $0 = p } }
        let reviewPath = dir.appendingPathComponent("review.json").path

        // A minute per review: the suites run in parallel in one process, and one of them
        // (10,000 hostile stacks) can hold the cooperative pool for seconds on two cores.
        func post(_ body: String, ca: String) async throws -> (status: Int32, output: String) {
            try body.write(toFile: reviewPath, atomically: true, encoding: .utf8)
            let port = bound.withLock { $0 } ?? 0
            return try await runTool([
                "curl", "-sS", "--max-time", "60", "--cacert", ca, "-H", "Content-Type: application/json", "--data-binary", "@\(reviewPath)",
                "https://127.0.0.1:\(port)/validate",
            ])
        }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            for _ in 0..<200 where bound.withLock({ $0 }) == nil { try await Task.sleep(nanoseconds: 20_000_000) }
            #expect(bound.withLock { $0 } != nil, "the server did not bind")

            let valid = try await post(Self.review(#"{"environment":"development"}"#), ca: first.ca)
            #expect(valid.status == 0, "\(valid.output)")
            let answer = try JSONValue.parse(Array(valid.output.utf8))
            #expect(answer["response"]?["uid"] == "u-1" && answer["response"]?["allowed"] == true, "\(valid.output)")
            let invalid = try await post(Self.review(#"{"environment":"production","sampling":{"percentage":500}}"#), ca: first.ca)
            #expect(invalid.output.contains(#""allowed":false"#) && invalid.output.contains("spec.sampling.percentage"), "\(invalid.output)")

            // Renewed in the files (a new CA, even): served from the next connection on.
            let second = try Self.pair(dir, "b")
            try install(second)
            _ = try files.load()
            let renewed = try await post(Self.review(#"{"environment":"development"}"#), ca: second.ca)
            #expect(renewed.status == 0 && renewed.output.contains(#""allowed":true"#), "\(renewed.output)")
            let old = try await post(Self.review(#"{"environment":"development"}"#), ca: first.ca)
            #expect(old.status != 0, "the old certificate is still served: \(old.output)")
            group.cancelAll()
        }
    }
}
