import TestSupport
import Foundation
import Rotation
import Testing
import X509

@Suite struct IssuedTimesTests {
    @Test func reportedValidityEqualsWhatIsReadBackFromThePEM() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000.73)
        let ca = try PKI.issueCA(commonName: "t", now: now, duration: 86400 * 365)
        let leaf = try PKI.issueLeaf(ca: ca, commonName: "l", dnsNames: ["l"], ipAddresses: [], usage: .server, now: now, duration: 86400.4)
        for c in [ca, leaf] {
            let back = try PKI.load(certificatePEM: c.certificatePEM, privateKeyPEM: c.privateKeyPEM)
            #expect(back.notAfter == c.notAfter && back.notBefore == c.notBefore)
        }
    }
}
