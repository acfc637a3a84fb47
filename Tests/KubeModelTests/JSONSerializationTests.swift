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

    /// Long strings are escaped 4,096 bytes at a time into room for the worst case: escapes
    /// on and around each chunk's edges, a string of nothing but escapes (six bytes each),
    /// and a config-like string of many short lines give JSONEncoder's bytes.
    @Test func longStringsAcrossChunks() throws {
        var cases: [String] = []
        for edge in [4088, 4094, 4095, 4096, 4097, 8191, 8192] {
            for special in ["\"", "\n", "\u{01}", "é"] {
                var chars = Array(repeating: "a", count: 8200)
                chars[edge] = special
                chars[edge - 1] = special
                cases.append(chars.joined())
            }
        }
        cases.append(String(repeating: "\u{01}", count: 9000))
        cases.append(String(repeating: "\"", count: 9000))
        cases.append((0..<2000).map { "  key_\($0): \"value \($0)\"" }.joined(separator: "\n"))
        for s in cases {
            let value = JSONValue.string(s)
            #expect(value.serialized() == Array(try JSONCoding.encoder().encode(value)), "\(s.prefix(40))… of \(s.utf8.count) bytes")
        }
    }
}
