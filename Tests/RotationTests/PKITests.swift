import TestSupport
import Foundation
import Rotation
import Testing
import X509

@Suite struct PKITests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aLeafCarriesItsSANsAndUsageAndChainsToItsCA() async throws {
        let ca = try PKI.issueCA(commonName: "vigil test CA", now: now, duration: 365 * 86400)
        let leaf = try PKI.issueLeaf(
            ca: ca, commonName: "obs-collector", dnsNames: ["obs-collector", "obs-collector.team.svc"], ipAddresses: ["10.0.0.7", "fd00::1"],
            usage: .server, now: now, duration: 90 * 86400
        )
        #expect(await PKI.verify(leafPEM: leaf.certificatePEM, bundlePEM: [ca.certificatePEM], at: now) == nil)
        #expect(await PKI.verify(leafPEM: leaf.certificatePEM, bundlePEM: [ca.certificatePEM], at: now.addingTimeInterval(91 * 86400)) != nil)
        let other = try PKI.issueCA(commonName: "other", now: now, duration: 365 * 86400)
        #expect(await PKI.verify(leafPEM: leaf.certificatePEM, bundlePEM: [other.certificatePEM], at: now) != nil)

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try leaf.certificatePEM.write(to: dir.appendingPathComponent("leaf.pem"), atomically: true, encoding: .utf8)
        let (code, text) = try await runTool(["openssl", "x509", "-in", dir.appendingPathComponent("leaf.pem").path, "-noout", "-text"])
        #expect(code == 0)
        #expect(text.contains("DNS:obs-collector.team.svc") && text.contains("IP Address:10.0.0.7") && text.contains("IP Address:FD00:0:0:0:0:0:0:1"))
        #expect(text.contains("TLS Web Server Authentication"))
        #expect(text.contains("CA:FALSE"))
        #expect(!leaf.description.contains("PRIVATE KEY"))
    }

    @Test func rsaKeysOfTheAllowedSizes() async throws {
        let ca = try PKI.issueCA(commonName: "rsa CA", now: now, duration: 365 * 86400, algorithm: .rsa(bits: 2048))
        let leaf = try PKI.issueLeaf(ca: ca, commonName: "x", dnsNames: ["x"], ipAddresses: [], usage: .client, now: now, duration: 86400, algorithm: .rsa(bits: 3072))
        #expect(await PKI.verify(leafPEM: leaf.certificatePEM, bundlePEM: [ca.certificatePEM], at: now) == nil)
        #expect(leaf.privateKeyPEM.contains("PRIVATE KEY"))
        #expect(throws: PKI.Failure.self) { try PKI.issueCA(commonName: "weak", now: now, duration: 86400, algorithm: .rsa(bits: 1024)) }
    }

    @Test func aLeafNeverOutlivesItsCA() throws {
        let ca = try PKI.issueCA(commonName: "short", now: now, duration: 10 * 86400)
        let leaf = try PKI.issueLeaf(ca: ca, commonName: "x", dnsNames: ["x"], ipAddresses: [], usage: .server, now: now, duration: 90 * 86400)
        #expect(leaf.notAfter == ca.notAfter)
    }
}
