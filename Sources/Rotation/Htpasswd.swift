import CCrypt
import Foundation

/// bcrypt through the system's libxcrypt, and the htpasswd file the collector's
/// `basicauth` extension reads. No password, hash or header ever appears in an error or a
/// description.
public enum Htpasswd {
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// The costs Vigil hashes at: bcrypt's lowest (4) to 14.
    public static let costs = 4...14

    /// A `$2y$` bcrypt hash of `password` at `cost`. The salt comes from the operating
    /// system's CSPRNG, inside libxcrypt.
    public static func bcrypt(_ password: String, cost: Int) throws -> String {
        guard costs.contains(cost) else { throw Failure(description: "bcrypt cost must be between \(costs.lowerBound) and \(costs.upperBound), not \(cost)") }
        var salt = [CChar](repeating: 0, count: Int(CRYPT_GENSALT_OUTPUT_SIZE))
        guard crypt_gensalt_rn("$2y$", UInt(cost), nil, 0, &salt, Int32(salt.count)) != nil, salt[0] != 0x2A else {
            throw Failure(description: "libxcrypt could not make a bcrypt salt")
        }
        var data = crypt_data()
        let hashed: String? = withUnsafeMutablePointer(to: &data) { ptr in
            guard let out = crypt_r(password, salt, ptr) else { return nil }
            let s = String(decoding: UnsafeRawBufferPointer(start: out, count: strlen(out)), as: UTF8.self)
            return s
        }
        guard let hashed, hashed.hasPrefix("$2y$") else { throw Failure(description: "libxcrypt could not hash with bcrypt") }
        return hashed
    }

    /// Whether `password` matches a crypt(3) `hash`.
    public static func verify(_ password: String, hash: String) -> Bool {
        var data = crypt_data()
        return withUnsafeMutablePointer(to: &data) { ptr in
            guard let out = crypt_r(password, hash, ptr) else { return false }
            let s = String(decoding: UnsafeRawBufferPointer(start: out, count: strlen(out)), as: UTF8.self)
            return !s.hasPrefix("*") && s == hash
        }
    }

    /// A password of `bytes` random bytes (at least 16, so 128 bits) from the system
    /// CSPRNG, base64url without padding: safe in URLs, headers and htpasswd files.
    public static func password(bytes: Int = 24) -> String {
        var rng = SystemRandomNumberGenerator()
        let raw = (0..<max(16, bytes)).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(raw).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// One `user:hash` line per entry, in the given order. For a duplicated user the
    /// collector takes the last line, so callers keep usernames unique.
    public static func file(_ entries: [(user: String, hash: String)]) -> String {
        entries.map { "\($0.user):\($0.hash)\n" }.joined()
    }

    /// The `Authorization` header value for a credential.
    public static func basicHeader(user: String, password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }
}
