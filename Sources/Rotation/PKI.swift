import Crypto
import Foundation
import SwiftASN1
@_spi(FixedExpiryValidationTime) import X509
import _CryptoExtras

/// A certificate and its key, as PEM, with the facts Vigil plans with. Its
/// `description` never shows the key.
public struct IssuedCertificate: Sendable, Hashable, Codable, CustomStringConvertible {
    public var certificatePEM: String
    public var privateKeyPEM: String
    public var notBefore: Date
    public var notAfter: Date
    /// Hex serial number.
    public var serial: String

    public var description: String { "certificate(serial \(serial), \(notBefore) to \(notAfter))" }

    public init(certificatePEM: String, privateKeyPEM: String, notBefore: Date, notAfter: Date, serial: String) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.serial = serial
    }
}

/// Key algorithms for issued certificates.
public enum KeyAlgorithm: Sendable, Hashable {
    case ecdsaP256
    case rsa(bits: Int)

    public init(spec algorithm: String?, size: Int?) {
        self = algorithm == "RSA" ? .rsa(bits: size ?? 2048) : .ecdsaP256
    }
}

/// What a leaf is for.
public enum LeafUsage: Sendable, Hashable {
    case server
    case client
}

/// Issues CAs and leaves with swift-certificates. Key generation draws from the system's
/// CSPRNG; everything else is determined by the arguments.
public enum PKI {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Clock skew allowance: certificates are valid from a little before they are issued.
    public static let backdate: TimeInterval = 300

    static func newKey(_ algorithm: KeyAlgorithm) throws -> Certificate.PrivateKey {
        switch algorithm {
        case .ecdsaP256: return Certificate.PrivateKey(P256.Signing.PrivateKey())
        case .rsa(let bits):
            guard bits == 2048 || bits == 3072 else { throw Failure(description: "RSA keys must be 2048 or 3072 bits, not \(bits)") }
            return Certificate.PrivateKey(try _RSA.Signing.PrivateKey(keySize: .init(bitCount: bits)))
        }
    }

    static func serial() -> Certificate.SerialNumber { Certificate.SerialNumber() }

    static func hex(_ s: Certificate.SerialNumber) -> String {
        s.bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// A self-signed CA, valid from `now - backdate` for `duration` seconds.
    public static func issueCA(commonName: String, now: Date, duration: TimeInterval, algorithm: KeyAlgorithm = .ecdsaP256) throws -> IssuedCertificate {
        let key = try newKey(algorithm)
        let name = try DistinguishedName {
            OrganizationName("Vigil")
            CommonName(commonName)
        }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
            Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
            SubjectKeyIdentifier(hash: key.publicKey)
        }
        let serial = serial()
        // Whole seconds, as X.509 stores them: what is reported now equals what is read back.
        let notBefore = wholeSeconds(now.addingTimeInterval(-backdate))
        let notAfter = wholeSeconds(now.addingTimeInterval(duration))
        let cert = try Certificate(
            version: .v3, serialNumber: serial, publicKey: key.publicKey, notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: name, subject: name, extensions: extensions, issuerPrivateKey: key
        )
        return IssuedCertificate(
            certificatePEM: try cert.serializeAsPEM().pemString, privateKeyPEM: try key.serializeAsPEM().pemString,
            notBefore: notBefore, notAfter: notAfter, serial: hex(serial)
        )
    }

    /// A leaf signed by `ca`, never outliving it.
    public static func issueLeaf(
        ca: IssuedCertificate, commonName: String, dnsNames: [String], ipAddresses: [String], usage: LeafUsage, now: Date,
        duration: TimeInterval, algorithm: KeyAlgorithm = .ecdsaP256
    ) throws -> IssuedCertificate {
        let caCert = try Certificate(pemEncoded: ca.certificatePEM)
        let caKey = try Certificate.PrivateKey(pemEncoded: ca.privateKeyPEM)
        let key = try newKey(algorithm)
        let subject = try DistinguishedName {
            OrganizationName("Vigil")
            CommonName(commonName)
        }
        var names: [GeneralName] = dnsNames.map { .dnsName($0) }
        for ip in ipAddresses {
            guard let bytes = ipBytes(ip) else { throw Failure(description: "not an IP address: \(ip)") }
            names.append(.ipAddress(ASN1OctetString(contentBytes: ArraySlice(bytes))))
        }
        let isRSA: Bool
        if case .rsa = algorithm { isRSA = true } else { isRSA = false }
        let extensions = try Certificate.Extensions {
            Critical(BasicConstraints.notCertificateAuthority)
            Critical(KeyUsage(digitalSignature: true, keyEncipherment: isRSA))
            try ExtendedKeyUsage([usage == .server ? .serverAuth : .clientAuth])
            if !names.isEmpty { SubjectAlternativeNames(names) }
            SubjectKeyIdentifier(hash: key.publicKey)
            AuthorityKeyIdentifier(keyIdentifier: try caCert.extensions.subjectKeyIdentifier?.keyIdentifier)
        }
        let serial = serial()
        let notBefore = wholeSeconds(now.addingTimeInterval(-backdate))
        let notAfter = wholeSeconds(min(now.addingTimeInterval(duration), ca.notAfter))
        guard notAfter > now else { throw Failure(description: "the CA expires before the leaf could be valid") }
        let cert = try Certificate(
            version: .v3, serialNumber: serial, publicKey: key.publicKey, notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: caCert.subject, subject: subject, extensions: extensions, issuerPrivateKey: caKey
        )
        return IssuedCertificate(
            certificatePEM: try cert.serializeAsPEM().pemString, privateKeyPEM: try key.serializeAsPEM().pemString,
            notBefore: notBefore, notAfter: notAfter, serial: hex(serial)
        )
    }

    static func wholeSeconds(_ d: Date) -> Date { Date(timeIntervalSince1970: floor(d.timeIntervalSince1970)) }

    /// IPv4 or IPv6 literal to network-order bytes.
    static func ipBytes(_ s: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, s, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, s, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    /// Whether `leafPEM` chains to one of the CAs in `bundlePEM` at `time`, by
    /// swift-certificates' RFC 5280 verifier; nil when valid, else why not.
    public static func verify(leafPEM: String, bundlePEM: [String], at time: Date) async -> String? {
        do {
            let leaf = try Certificate(pemEncoded: leafPEM)
            let roots = try bundlePEM.map { try Certificate(pemEncoded: $0) }
            var verifier = Verifier(rootCertificates: CertificateStore(roots)) { RFC5280Policy(fixedExpiryValidationTime: time) }
            switch await verifier.validate(leaf: leaf, intermediates: CertificateStore()) {
            case .validCertificate: return nil
            case .couldNotValidate(let failures): return "no valid chain: \(failures.map { "\($0)" }.joined(separator: "; ").prefix(500))"
            }
        } catch {
            return "cannot parse: \(error)"
        }
    }
}

extension PKI {
    /// Reads back a certificate and its key as `IssuedCertificate`.
    public static func load(certificatePEM: String, privateKeyPEM: String) throws -> IssuedCertificate {
        let cert = try Certificate(pemEncoded: certificatePEM)
        _ = try Certificate.PrivateKey(pemEncoded: privateKeyPEM)
        return IssuedCertificate(
            certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM, notBefore: cert.notValidBefore, notAfter: cert.notValidAfter,
            serial: hex(cert.serialNumber)
        )
    }

    /// A certificate alone, its key lost (a CA that may still be trusted but signs nothing):
    /// `privateKeyPEM` is empty.
    public static func loadCertificate(_ certificatePEM: String) throws -> IssuedCertificate {
        let cert = try Certificate(pemEncoded: certificatePEM)
        return IssuedCertificate(certificatePEM: certificatePEM, privateKeyPEM: "", notBefore: cert.notValidBefore, notAfter: cert.notValidAfter, serial: hex(cert.serialNumber))
    }

    /// The PEM certificates of a bundle file, in order.
    public static func certificates(inBundle bundle: String) -> [String] {
        bundle.components(separatedBy: "-----END CERTIFICATE-----").filter { $0.contains("-----BEGIN CERTIFICATE-----") }.map {
            String($0[$0.range(of: "-----BEGIN CERTIFICATE-----")!.lowerBound...]) + "-----END CERTIFICATE-----\n"
        }
    }

    /// The certificate among `candidates` that issued `leaf` (its subject is the leaf's
    /// issuer, and its key signed the leaf), or nil.
    public static func issuer(of leafPEM: String, among candidates: [String]) -> String? {
        guard let leaf = try? Certificate(pemEncoded: leafPEM) else { return nil }
        return candidates.first { pem in
            guard let ca = try? Certificate(pemEncoded: pem) else { return false }
            return ca.subject == leaf.issuer && ca.publicKey.isValidSignature(leaf.signature, for: leaf)
        }
    }

    /// The DNS and IP subject alternative names of a certificate, IPs as text.
    public static func subjectAlternativeNames(certificatePEM: String) throws -> (dns: [String], ips: [String]) {
        let cert = try Certificate(pemEncoded: certificatePEM)
        guard let sans = try cert.extensions.subjectAlternativeNames else { return ([], []) }
        var dns: [String] = []
        var ips: [String] = []
        for name in sans {
            switch name {
            case .dnsName(let d): dns.append(d)
            case .ipAddress(let octets): ips.append(ipText(Array(octets.bytes)))
            default: break
            }
        }
        return (dns, ips)
    }

    static func ipText(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { raw in inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) } != nil
        guard ok else { return "" }
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Normalises an IP literal as `subjectAlternativeNames` reports it.
    public static func canonicalIP(_ s: String) -> String? {
        ipBytes(s).map(ipText)
    }
}

extension PKI {
    /// Why a user-provided key pair cannot serve, or nil when it can: both present and
    /// parseable, the key matching the certificate, and the certificate valid at `now`.
    /// Never includes key material.
    public static func problemWithKeyPair(certificatePEM: String?, privateKeyPEM: String?, now: Date) -> String? {
        guard let certificatePEM, !certificatePEM.isEmpty else { return "tls.crt is missing" }
        guard let privateKeyPEM, !privateKeyPEM.isEmpty else { return "tls.key is missing" }
        let cert: Certificate
        do { cert = try Certificate(pemEncoded: certificatePEM) } catch { return "tls.crt is not a PEM certificate" }
        let key: Certificate.PrivateKey
        do { key = try Certificate.PrivateKey(pemEncoded: privateKeyPEM) } catch { return "tls.key is not a PEM private key" }
        if key.publicKey != cert.publicKey { return "tls.key does not match the certificate in tls.crt" }
        if now < cert.notValidBefore { return "the certificate is not valid before \(cert.notValidBefore.formatted(.iso8601))" }
        if now >= cert.notValidAfter { return "the certificate expired at \(cert.notValidAfter.formatted(.iso8601))" }
        return nil
    }
}
