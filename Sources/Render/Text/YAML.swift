import KubeModel
import Yams

/// Deterministic YAML: mapping keys sorted (as `kubectl get -o yaml` does), multi-line
/// strings as literal blocks, and the same bytes for the same value on every run.
public enum YAMLText {
    // One Tag of each kind, made once: `Tag(name)` builds Yams' default Constructor (its
    // dictionaries of closures) every time, which was a quarter of a stack's render time.
    nonisolated(unsafe) static let constructor = Constructor.default
    nonisolated(unsafe) static let nullTag = Tag(.null, .default, constructor)
    nonisolated(unsafe) static let boolTag = Tag(.bool, .default, constructor)
    nonisolated(unsafe) static let intTag = Tag(.int, .default, constructor)
    nonisolated(unsafe) static let floatTag = Tag(.float, .default, constructor)
    nonisolated(unsafe) static let strTag = Tag(.str, .default, constructor)
    nonisolated(unsafe) static let seqTag = Tag(.seq, .default, constructor)
    nonisolated(unsafe) static let mapTag = Tag(.map, .default, constructor)

    public static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return Node("null", nullTag)
        case .bool(let b): return Node(b ? "true" : "false", boolTag)
        case .int(let i): return Node(String(i), intTag)
        case .double(let d):
            if d.rounded() == d, abs(d) < 1e15 { return Node(String(Int(d)), intTag) }
            return Node(String(d), floatTag)
        case .string(let s):
            if s.containsUTF8(0x0A) { return Node(s, strTag, .literal) }
            if needsQuotes(s) { return Node(s, strTag, .singleQuoted) }
            return Node(s, strTag)
        case .array(let a):
            return Node(a.map(node), seqTag)
        case .object(let o):
            return Node(o.keys.sorted().map { (Node($0, strTag), node(o[$0]!)) }, mapTag)
        }
    }

    /// True when a plain scalar would be read back as something other than this string,
    /// by a YAML 1.2 reader (Yams) or a YAML 1.1 one (Kubernetes, Prometheus, the collector).
    /// Written out rather than asking Yams' resolver, whose regular expressions were a
    /// quarter of a stack's render time; a test compares the two on every rendered scalar.
    public static func needsQuotes(_ s: String) -> Bool {
        return s.withUTF8Bytes { b in
            guard let c0 = b.first else { return true }
            func lower(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 0x20 : c }
            func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
            func equalsIgnoringCase(_ word: String) -> Bool {
                word.utf8.count == b.count && zip(word.utf8, b).allSatisfy { $0 == lower($1) }
            }
            let letter = (c0 >= 0x41 && c0 <= 0x5A) || (c0 >= 0x61 && c0 <= 0x7A)
            if letter {
                // Only YAML 1.1's booleans and null start with a letter: y, n, t, f or o.
                guard b.count <= 5 else { return false }
                switch lower(c0) {
                case UInt8(ascii: "y"), UInt8(ascii: "n"), UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "o"): break
                default: return false
                }
                return ["y", "yes", "n", "no", "true", "false", "on", "off", "null"].contains(where: equalsIgnoringCase)
            }
            if b.count <= 5, ["~", "<<", "=", ".inf", "-.inf", "+.inf", ".nan"].contains(where: equalsIgnoringCase) { return true }
            guard isDigit(c0) || c0 == UInt8(ascii: ".") || c0 == UInt8(ascii: "+") || c0 == UInt8(ascii: "-") else { return false }
            // Timestamps: YYYY-M-D and what follows.
            if b.count >= 5, isDigit(b[0]), isDigit(b[1]), isDigit(b[2]), isDigit(b[3]), b[4] == UInt8(ascii: "-") { return true }
            // Numbers in any YAML 1.1 form: 0755, 0x1f, -0b101, 1_000, 1:20, .5, +1, 1e3.
            let unsigned = c0 == UInt8(ascii: "+") || c0 == UInt8(ascii: "-") ? b.dropFirst() : b[...]
            if unsigned.count >= 2, unsigned[unsigned.startIndex] == UInt8(ascii: "0"),
                [UInt8(ascii: "x"), UInt8(ascii: "b"), UInt8(ascii: "o")].contains(lower(unsigned[unsigned.startIndex + 1]))
            {
                return unsigned.dropFirst(2).allSatisfy { isDigit($0) || (lower($0) >= 0x61 && lower($0) <= 0x66) || $0 == UInt8(ascii: "_") }
            }
            return b.allSatisfy {
                switch $0 {
                case 0x30...0x39, UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "e"), UInt8(ascii: "E"): true
                default: false
                }
            }
        }
    }

    /// One YAML document: written directly where it can be, else by Yams (the same bytes).
    public static func document(_ value: JSONValue) throws -> String {
        if let fast = FastYAML.document(value) { return fast }
        return try yamsDocument(value)
    }

    /// One YAML document by Yams (libyaml): the reference `FastYAML` is tested against.
    public static func yamsDocument(_ value: JSONValue) throws -> String {
        try Yams.serialize(node: node(value), indent: 2, width: -1, allowUnicode: true, sortKeys: false)
    }

    /// Whether the direct writer takes this value (tests).
    public static func writesDirectly(_ value: JSONValue) -> Bool { FastYAML.document(value) != nil }

    /// Several documents separated by `---`.
    public static func documents(_ values: [JSONValue]) throws -> String {
        try values.map { "---\n" + (try document($0)) }.joined()
    }
}

/// Encodes any Codable to a JSONValue (through JSON), for comparing and rendering.
public func jsonValue(of value: some Encodable) throws -> JSONValue {
    try JSONCoding.decode(JSONValue.self, from: JSONCoding.encode(value))
}
