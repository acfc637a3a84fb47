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

    /// Strings are scanned eight bytes at a time: every character that needs escaping, and
    /// the bytes that look like one to the bit tricks (0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F,
    /// multi-byte UTF-8), at every offset of strings of 1 to 20 bytes, give JSONEncoder's bytes.
    @Test func escapesAtEveryOffset() throws {
        let specials = ["\"", "\\", "\n", "\t", "\r", "\u{00}", "\u{1F}", "\u{08}", "\u{0C}", " ", "!", "#", "[", "]", "\u{7F}", "é", "€", "/"]
        for special in specials {
            for length in 1...20 {
                for at in 0..<length {
                    var chars = Array(repeating: "a", count: length)
                    chars[at] = special
                    let value = JSONValue.string(chars.joined())
                    #expect(value.serialized() == Array(try JSONCoding.encoder().encode(value)), "\(special.unicodeScalars.map(\.value)) at \(at) of \(length)")
                }
            }
        }
    }
}
