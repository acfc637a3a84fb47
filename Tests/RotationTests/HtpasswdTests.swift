import TestSupport
import Foundation
import Rotation
import Testing

@Suite struct HtpasswdTests {
    func htpasswdVerify(file: String, user: String, password: String) async throws -> Int32 {
        try await runTool(["htpasswd", "-vb", file, user, password]).status
    }

    @Test func everyLineVerifiesWithTheRealHtpasswdAndAWrongPasswordFails() async throws {
        let users = ["fba-bench-api-g1", "fba-worker-g1"]
        let passwords = users.map { _ in Htpasswd.password() }
        // The default cost (4) and the highest a stack may ask for: the real htpasswd reads both.
        let hashes = [try Htpasswd.bcrypt(passwords[0], cost: 4), try Htpasswd.bcrypt(passwords[1], cost: 14)]
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("htpasswd-\(UUID().uuidString)").path
        try Htpasswd.file(Array(zip(users, hashes)).map { (user: $0.0, hash: $0.1) }).write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        for (u, p) in zip(users, passwords) {
            #expect(try await htpasswdVerify(file: path, user: u, password: p) == 0, "htpasswd -vb rejects \(u)")
            #expect(try await htpasswdVerify(file: path, user: u, password: p + "x") != 0, "htpasswd -vb accepts a wrong password for \(u)")
        }
        #expect(hashes[0].hasPrefix("$2y$04$") && hashes[1].hasPrefix("$2y$14$") && hashes.allSatisfy { $0.count == 60 })
        #expect(Htpasswd.verify(passwords[0], hash: hashes[0]))
        #expect(!Htpasswd.verify(passwords[1], hash: hashes[0]))
    }

    @Test func theSameCostHashesDifferentlyEachTime() throws {
        let a = try Htpasswd.bcrypt("same", cost: 10)
        let b = try Htpasswd.bcrypt("same", cost: 10)
        #expect(a != b)
        #expect(Htpasswd.verify("same", hash: a) && Htpasswd.verify("same", hash: b))
    }

    @Test func aCostOutsideFourToFourteenIsRefused() {
        #expect(throws: Htpasswd.Failure.self) { try Htpasswd.bcrypt("x", cost: 3) }
        #expect(throws: Htpasswd.Failure.self) { try Htpasswd.bcrypt("x", cost: 15) }
    }

    @Test func passwordsCarryAtLeast128BitsOfURLSafeCharacters() {
        var seen = Set<String>()
        for _ in 0..<100 {
            let p = Htpasswd.password()
            #expect(p.count >= 22)
            #expect(p.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            seen.insert(p)
        }
        #expect(seen.count == 100)
        #expect(Htpasswd.password(bytes: 4).count >= 22, "never fewer than 16 bytes")
    }

    @Test func theBasicHeaderIsBase64OfUserColonPassword() {
        #expect(Htpasswd.basicHeader(user: "collector_user", password: "strongpassword") == "Basic Y29sbGVjdG9yX3VzZXI6c3Ryb25ncGFzc3dvcmQ=")
    }
}
