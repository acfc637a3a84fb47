import Foundation
import KubeModel
import Render
import TestSupport
import Testing

/// The Secrets only the operator can make (the CA, the serving certificate, the client
/// certificates, the credentials and htpasswd, the client Secret), rendered from fixed
/// fixture material for the production example, byte for byte. Regenerate with
/// `scripts/update-golden` and review the diff.
@Suite struct OperatorSecretsGoldenTests {
    static let goldenPath = "Tests/RenderTests/Golden/production-operator-secrets.yaml"

    static func pem(_ kind: String, _ body: String) -> String {
        "-----BEGIN \(kind)-----\n\(Data("fixture \(body)".utf8).base64EncodedString())\n-----END \(kind)-----\n"
    }

    /// Fixed material: a CA rollover in progress (two CAs in the bundle), a forced renewal
    /// honoured, one mTLS client, and a credential rotation in its overlap.
    static let certificates = CertificateMaterial(
        currentCA: KeyPairPEM(certificate: pem("CERTIFICATE", "new CA"), privateKey: pem("PRIVATE KEY", "new CA key")),
        previousCA: KeyPairPEM(certificate: pem("CERTIFICATE", "old CA"), privateKey: pem("PRIVATE KEY", "old CA key")),
        caPhase: "LeafOnNewCA@1800000000",
        leaf: KeyPairPEM(certificate: pem("CERTIFICATE", "serving leaf"), privateKey: pem("PRIVATE KEY", "serving key")),
        bundle: pem("CERTIFICATE", "old CA") + pem("CERTIFICATE", "new CA"),
        handledRotationRequest: "2026-12-01",
        clientCertificates: .init(
            byClient: ["fba-bench-api": KeyPairPEM(certificate: pem("CERTIFICATE", "client"), privateKey: pem("PRIVATE KEY", "client key"))],
            issuerSerial: "0a1b2c"
        ),
        gateway: .init(
            server: KeyPairPEM(certificate: pem("CERTIFICATE", "gateway leaf"), privateKey: pem("PRIVATE KEY", "gateway key")),
            agent: KeyPairPEM(certificate: pem("CERTIFICATE", "agent client"), privateKey: pem("PRIVATE KEY", "agent key")),
            issuerSerial: "0a1b2c"
        )
    )

    static let credentials = CredentialMaterial(
        generation: 2, phase: "Overlap", phaseSince: "2027-01-15T00:00:00Z", rotatedAt: "2027-01-14T23:00:00Z", published: ["fba-bench-api"],
        handledRequest: "rotate-1",
        credentials: [
            1: ["fba-bench-api": StoredCredential(password: "fixture-password-g1", hash: "$2y$10$fixturehashgeneration1")],
            2: ["fba-bench-api": StoredCredential(password: "fixture-password-g2", hash: "$2y$10$fixturehashgeneration2")],
        ],
        htpasswd: "fba-bench-api-g1:$2y$10$fixturehashgeneration1\nfba-bench-api-g2:$2y$10$fixturehashgeneration2\n",
        clientSecrets: [
            ClientCredential(client: "fba-bench-api", namespace: "fba-prod", username: "fba-bench-api-g2", password: "fixture-password-g2", generation: 2)
        ]
    )

    static func rendered() throws -> String {
        let input = try String(contentsOf: repoRoot.appendingPathComponent("examples/production.yaml"), encoding: .utf8)
        var stack = try #require(try StackFile.parse(input).first)
        stack.metadata.uid = "00000000-0000-0000-0000-000000000001"
        let objects = try DesiredState.render(StackContext(stack), inputs: RenderInputs(certificates: certificates, credentials: credentials)).objects
        let secrets = objects.filter { $0.resource == Secret.resource }
        return try secrets.map { "---\n" + (try YAMLText.document($0.body)) }.joined()
    }

    @Test func theOperatorSecretsRenderAsTheGoldenFile() throws {
        let rendered = try Self.rendered()
        let url = repoRoot.appendingPathComponent(Self.goldenPath)
        if ProcessInfo.processInfo.environment["VIGIL_UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: url, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(rendered == golden, "golden file differs; run scripts/update-golden and review:\n\(goldenDiff(golden, rendered))")
    }

    @Test func everyOperatorSecretIsThere() throws {
        let rendered = try Self.rendered()
        for name in [
            "fba-bench-ca", "fba-bench-ingest-tls", "fba-bench-gateway-tls", "fba-bench-agent-tls", "fba-bench-client-certs", "fba-bench-credentials", "fba-bench-htpasswd",
            "fba-prod.fba-bench-otlp-client",
        ] {
            #expect(rendered.contains("name: \(name)\n"), "\(name) is missing")
        }
        // Every Secret the offline render lists is one the operator makes.
        let input = try String(contentsOf: repoRoot.appendingPathComponent("examples/production.yaml"), encoding: .utf8)
        let stack = try #require(try StackFile.parse(input).first)
        for (name, _) in DesiredState.operatorSecrets(StackContext(stack)) where name != "fba-bench-alertmanager" {
            #expect(rendered.contains("name: \(name.split(separator: "/").last ?? "")\n"), "\(name) is listed but not made")
        }
    }
}
