import Foundation
import KubeModel
import Testing

@Suite struct JSONSerializationTests {
    /// The direct writer gives JSONEncoder's bytes, so hashes and outputs are unchanged
    /// (`JSONCoding.encode` takes it for every `JSONValue`).
    @Test(arguments: [
        ["b": 1, "a": [true, false, .null], "c": ["z": "x/y", "A": "q\"\\\n\t\u{01}é"]] as JSONValue,
        ["n": 500.0, "m": 0.02, "l": 1e-5, "k": -3, "big": 1e20, "Zeta": "a", "alpha": "b", "a10": 1, "a9": 2],
        [:], [], "plain", 12,
    ])
    func matchesJSONEncoder(_ value: JSONValue) throws {
        let encoded = Array(try JSONCoding.encoder().encode(value))
        #expect(try JSONCoding.encode(value) == encoded)
        #expect(value.serialized() == encoded, "\(String(decoding: value.serialized(), as: UTF8.self)) vs \(String(decoding: encoded, as: UTF8.self))")
    }
}
