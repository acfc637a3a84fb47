import Foundation
import KubeModel
import Testing

/// `JSONObject` keeps its members as a sorted array; it must behave exactly as the
/// `[String: JSONValue]` it replaced, and iterate in the order the writers emit.
@Suite struct JSONObjectTests {
    /// SplitMix64, so that a failing sequence can be replayed from its seed.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Keys that sort in surprising ways: case, digits, punctuation, non-ASCII, and two
    /// spellings of one key (a composed and a decomposed é, which `String` and `Dictionary`
    /// hold equal). And ASCII letters that a combining mark turns into others, which sort
    /// elsewhere ("e\u{301}" is "é", after "f"): the byte-order shortcut must not decide
    /// those. Not "éx": Swift 6.3's `String` holds "e\u{301}" neither less than, equal to,
    /// nor greater than "éx", so no sorted structure (and no model of one) can agree on it.
    static let keys = [
        "a", "A", "b", "a10", "a9", "a.b", "a-b", "_x", "", " ", "é", "e\u{301}", "z", "Zeta", "日本", "k8s", "K8S", "0", "9", "~",
        "e", "f", "ex", "e\u{301}x", "a\u{301}", "á", "b\u{301}", "\u{301}", "ae\u{301}", "aé", "af",
    ]

    /// The keys above are ordered consistently by `String` (exactly one of <, ==, > for each
    /// pair, and < transitive), so the tests below can use it as their model.
    @Test func theKeysHaveAConsistentOrder() {
        for a in Self.keys {
            for b in Self.keys {
                #expect([a < b, a == b, b < a].filter { $0 }.count == 1, "\(Array(a.unicodeScalars)) \(Array(b.unicodeScalars))")
                for c in Self.keys where a < b && b < c { #expect(a < c) }
            }
        }
    }

    /// Random sets, replacements and removals, against a Dictionary doing the same: the same
    /// lookups, the same members in `sorted(by:)`'s key order, the same count, at every step.
    @Test(arguments: [1, 2, 3, 4, 5] as [UInt64])
    func behavesAsADictionary(seed: UInt64) {
        var rng = Generator(state: seed)
        var object = JSONObject()
        var model: [String: JSONValue] = [:]
        for step in 0..<400 {
            let key = Self.keys.randomElement(using: &rng)!
            if Int.random(in: 0..<4, using: &rng) == 0 {
                #expect(object.removeValue(forKey: key) == model.removeValue(forKey: key))
            } else {
                let value = JSONValue.int(step)
                object[key] = value
                model[key] = value
            }
            #expect(object.count == model.count)
            for k in Self.keys { #expect(object[k] == model[k], "\(k) at step \(step)") }
            let sorted = model.sorted { $0.key < $1.key }
            #expect(object.map(\.value) == sorted.map(\.value))
            #expect(zip(object.keys, sorted.map(\.key)).allSatisfy { $0 == $1 })
        }
    }

    /// Built in any order, with repeated keys, an object is the one a Dictionary would hold
    /// (the last value of a repeated key stays), and equal objects hash alike.
    @Test(arguments: [7, 8, 9] as [UInt64])
    func orderOfConstructionDoesNotMatter(seed: UInt64) {
        var rng = Generator(state: seed)
        for size in [0, 1, 2, 5, 31, 32, 33, 80] {
            let pairs = (0..<size).map { i in (Self.keys.randomElement(using: &rng)!, JSONValue.int(i)) }
            let dictionary = Dictionary(pairs, uniquingKeysWith: { _, last in last })
            let object = JSONObject(unsorted: pairs)
            #expect(object.dictionary == dictionary)
            #expect(object == JSONObject(dictionary))
            #expect(object.hashValue == JSONObject(dictionary).hashValue)
            let shuffled = JSONObject(uniqueKeysWithValues: dictionary.map { ($0.key, $0.value) }.shuffled(using: &rng))
            #expect(shuffled == object)
            #expect(JSONValue.object(shuffled).serialized() == JSONValue.object(object).serialized())
        }
    }

    /// A literal's repeated key keeps its last value, as `Dictionary(_:uniquingKeysWith:)`
    /// did; the writer emits keys in order whatever order the literal gave.
    @Test func literalsAndTheWriter() throws {
        let value: JSONValue = ["b": 1, "a": 2, "b": 3, "C": 4]
        #expect(value["b"] == 3)
        #expect(value.objectValue?.count == 3)
        #expect(String(decoding: value.serialized(), as: UTF8.self) == #"{"C":4,"a":2,"b":3}"#)
        #expect(try JSONCoding.encode(value) == Array(try JSONCoding.encoder().encode(value)))
    }

    /// The parser sorts a document's members once; a repeated key keeps its last value, as
    /// it did when members were set one by one.
    @Test func parsedMembersAreSorted() throws {
        let parsed = try JSONCoding.decode(JSONValue.self, from: Data(#"{"z": 1, "a": {"y": 2, "b": 3}, "m": [], "z": 4}"#.utf8))
        #expect(parsed.objectValue?.keys == ["a", "m", "z"])
        #expect(parsed["z"] == 4)
        #expect(parsed["a"]?.objectValue?.keys == ["b", "y"])
    }

    /// Nested changes go through the subscripts' in-place accessors: they set, insert and
    /// remove at depth, do nothing under a missing or non-object member, and leave a copy
    /// taken before them as it was.
    @Test func nestedChangesInPlaceKeepValueSemantics() {
        var v: JSONValue = ["a": ["b": ["c": 1, "e": 5]], "s": "text"]
        let before = v
        v["a"]?["b"]?["c"] = 2
        v["a"]?["b"]?["d"] = 3
        v["a"]?["b"]?["e"] = nil
        v["x"]?["y"] = 1
        v["s"]?["y"] = 1
        #expect(v == ["a": ["b": ["c": 2, "d": 3]], "s": "text"])
        #expect(before == ["a": ["b": ["c": 1, "e": 5]], "s": "text"])
        var o: JSONObject = ["m": ["k": "v"]]
        let copy = o
        o["m"]?["k"] = "w"
        o["n", default: [:]]["k"] = "z"
        #expect(o == ["m": ["k": "w"], "n": ["k": "z"]])
        #expect(copy == ["m": ["k": "v"]])
    }

    /// The Codable path (JSONDecoder and JSONEncoder) round-trips an object.
    @Test func codableRoundTrip() throws {
        let value: JSONValue = ["metadata": ["labels": ["app": "x", "tier": "y"]], "list": [1, "two", ["k": .null]]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }
}

/// The writers' buffer: what is appended is what is read back, across growth.
@Suite struct ByteWriterTests {
    @Test func decimalsAreStringsDigits() {
        for value in [0, 1, -1, 9, 10, -10, 12_345, Int.max, Int.min, 1 << 40, -(1 << 40)] {
            var w = ByteWriter(capacity: 1)
            w.append(decimal: value)
            #expect(w.string == String(value))
        }
    }

    @Test func appendsSurviveGrowth() {
        var w = ByteWriter(capacity: 1)
        var expected: [UInt8] = []
        for i in 0..<2000 {
            switch i % 4 {
            case 0:
                w.append(UInt8(truncatingIfNeeded: i))
                expected.append(UInt8(truncatingIfNeeded: i))
            case 1:
                w.append("abc")
                expected += Array("abc".utf8)
            case 2:
                w.append(utf8: "é\(i)")
                expected += Array("é\(i)".utf8)
            default:
                w.append(repeating: 0x20, count: i % 7)
                expected += Array(repeating: 0x20, count: i % 7)
            }
        }
        #expect(w.count == expected.count)
        #expect(w.bytes == expected)
    }
}
