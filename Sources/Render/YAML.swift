import KubeModel
import Yams

/// Deterministic YAML: mapping keys sorted (as `kubectl get -o yaml` does), multi-line
/// strings as literal blocks, and the same bytes for the same value on every run.
public enum YAMLText {
    public static func node(_ value: JSONValue) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null))
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool))
        case .int(let i): return Node(String(i), Tag(.int))
        case .double(let d):
            if d.rounded() == d, abs(d) < 1e15 { return Node(String(Int(d)), Tag(.int)) }
            return Node(String(d), Tag(.float))
        case .string(let s):
            if s.contains("\n") { return Node(s, Tag(.str), .literal) }
            if needsQuotes(s) { return Node(s, Tag(.str), .singleQuoted) }
            return Node(s, Tag(.str))
        case .array(let a):
            return Node(a.map(node), Tag(.seq))
        case .object(let o):
            return Node(o.keys.sorted().map { (Node($0, Tag(.str)), node(o[$0]!)) }, Tag(.map))
        }
    }

    /// YAML 1.1 words that Kubernetes' parser reads as booleans or null.
    static let yaml11Words: Set<String> = ["y", "yes", "n", "no", "true", "false", "on", "off", "null", "~", ""]

    /// True when a plain scalar would be read back as something other than this string,
    /// by a YAML 1.2 reader (Yams) or a YAML 1.1 one (Kubernetes, Prometheus, the collector).
    static func needsQuotes(_ s: String) -> Bool {
        if yaml11Words.contains(s.lowercased()) { return true }
        if Resolver.default.resolveTag(of: Node(s)) != .str { return true }
        guard let first = s.first else { return true }
        // Numbers in any YAML 1.1 form: 0755, 0x1f, 0b101, 1_000, 1:20, .5, +1, 1e3.
        let lower = s.lowercased()
        if lower.hasPrefix("0x") || lower.hasPrefix("0b") || lower.hasPrefix("0o") {
            return lower.dropFirst(2).allSatisfy { $0.isHexDigit || $0 == "_" }
        }
        if first.isNumber || first == "." || first == "+" || first == "-" {
            return s.allSatisfy { "0123456789._:+-eE".contains($0) }
        }
        return false
    }

    /// One YAML document.
    public static func document(_ value: JSONValue) throws -> String {
        try Yams.serialize(node: node(value), indent: 2, width: -1, allowUnicode: true, sortKeys: false)
    }

    /// Several documents separated by `---`.
    public static func documents(_ values: [JSONValue]) throws -> String {
        try values.map { "---\n" + (try document($0)) }.joined()
    }
}

/// Encodes any Codable to a JSONValue (through JSON), for comparing and rendering.
public func jsonValue(of value: some Encodable) throws -> JSONValue {
    try JSONCoding.decode(JSONValue.self, from: JSONCoding.encode(value))
}
