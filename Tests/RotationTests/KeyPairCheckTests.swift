import TestSupport
import Foundation
import Rotation
import Testing
import X509

@Suite struct KeyPairCheckTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aValidPairPassesAndEachBreakageIsNamed() throws {
        let ca = try PKI.issueCA(commonName: "ca", now: now, duration: 365 * 86400)
        let leaf = try PKI.issueLeaf(ca: ca, commonName: "x", dnsNames: ["x"], ipAddresses: [], usage: .server, now: now, duration: 86400)
        let other = try PKI.issueLeaf(ca: ca, commonName: "y", dnsNames: ["y"], ipAddresses: [], usage: .server, now: now, duration: 86400)
        #expect(PKI.problemWithKeyPair(certificatePEM: leaf.certificatePEM, privateKeyPEM: leaf.privateKeyPEM, now: now) == nil)
        let cases: [(String?, String?, Date, String)] = [
            (nil, leaf.privateKeyPEM, now, "tls.crt is missing"),
            (leaf.certificatePEM, nil, now, "tls.key is missing"),
            ("garbage", leaf.privateKeyPEM, now, "tls.crt is not a PEM certificate"),
            (leaf.certificatePEM, "garbage", now, "tls.key is not a PEM private key"),
            (leaf.certificatePEM, other.privateKeyPEM, now, "does not match"),
            (leaf.certificatePEM, leaf.privateKeyPEM, now.addingTimeInterval(2 * 86400), "expired"),
        ]
        for (cert, key, at, expected) in cases {
            let problem = PKI.problemWithKeyPair(certificatePEM: cert, privateKeyPEM: key, now: at) ?? ""
            #expect(problem.contains(expected), "\(problem)")
            #expect(!problem.contains("PRIVATE"))
        }
    }
}
