/// A JSON parser straight to `JSONValue`. Decoding `JSONValue` through Codable tries each
/// type in turn and builds a `DecodingError` (with its coding path) for every miss: that was
/// most of Vigil's CPU while it converged 500 stacks (BENCHMARKS.md).
struct JSONParser {
    struct Failure: Error, CustomStringConvertible {
        var offset: Int
        var what: String
        var description: String { "invalid JSON at byte \(offset): \(what)" }
    }

    let b: UnsafeBufferPointer<UInt8>
    var i = 0

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try bytes.withUnsafeBufferPointer { buffer in
            var p = JSONParser(b: buffer)
            p.skipSpace()
            let v = try p.value(depth: 0)
            p.skipSpace()
            guard p.i == buffer.count else { throw Failure(offset: p.i, what: "trailing characters") }
            return v
        }
    }

    mutating func skipSpace() {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
    }

    mutating func expect(_ word: String) throws {
        for c in word.utf8 {
            guard i < b.count, b[i] == c else { throw Failure(offset: i, what: "expected \(word)") }
            i += 1
        }
    }

    mutating func value(depth: Int) throws -> JSONValue {
        guard depth < 512 else { throw Failure(offset: i, what: "nested too deeply") }
        guard i < b.count else { throw Failure(offset: i, what: "unexpected end") }
        switch b[i] {
        case UInt8(ascii: "{"):
            i += 1
            // Members in the document's order, sorted once at the end.
            var members: [JSONObject.Member] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") {
                i += 1
                return .object(JSONObject())
            }
            while true {
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw Failure(offset: i, what: "expected a key") }
                let key = try string()
                skipSpace()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { throw Failure(offset: i, what: "expected :") }
                i += 1
                skipSpace()
                members.append((key, try value(depth: depth + 1)))
                skipSpace()
                guard i < b.count else { throw Failure(offset: i, what: "unexpected end") }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard b[i] == UInt8(ascii: "}") else { throw Failure(offset: i, what: "expected , or }") }
                i += 1
                return .object(JSONObject(unsorted: members))
            }
        case UInt8(ascii: "["):
            i += 1
            var a: [JSONValue] = []
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") {
                i += 1
                return .array(a)
            }
            while true {
                skipSpace()
                a.append(try value(depth: depth + 1))
                skipSpace()
                guard i < b.count else { throw Failure(offset: i, what: "unexpected end") }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard b[i] == UInt8(ascii: "]") else { throw Failure(offset: i, what: "expected , or ]") }
                i += 1
                return .array(a)
            }
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        default: return try number()
        }
    }

    mutating func number() throws -> JSONValue {
        let start = i
        var integral = true
        if i < b.count, b[i] == UInt8(ascii: "-") { i += 1 }
        while i < b.count {
            let c = b[i]
            if c >= 0x30 && c <= 0x39 {
                i += 1
            } else if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") {
                integral = false
                i += 1
            } else {
                break
            }
        }
        guard i > start else { throw Failure(offset: i, what: "unexpected character") }
        let text = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
        if integral, let n = Int(text) { return .int(n) }
        guard let d = Double(text) else { throw Failure(offset: start, what: "bad number \(text)") }
        return .double(d)
    }

    mutating func string() throws -> String {
        i += 1  // the opening quote
        let start = i
        // The common case: no escapes.
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") { i += 1 }
        guard i < b.count else { throw Failure(offset: i, what: "unterminated string") }
        if b[i] == UInt8(ascii: "\"") {
            let s = String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)
            i += 1
            return s
        }
        var out = Array(b[start..<i])
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                i += 1
                continue
            }
            i += 1
            guard i < b.count else { break }
            let e = b[i]
            i += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if scalar >= 0xD800 && scalar < 0xDC00, i + 1 < b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                out.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: throw Failure(offset: i - 1, what: "bad escape")
            }
        }
        throw Failure(offset: i, what: "unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= b.count else { throw Failure(offset: i, what: "short \\u escape") }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let c = b[i]
            let d: UInt32
            switch c {
            case 0x30...0x39: d = UInt32(c - 0x30)
            case 0x41...0x46: d = UInt32(c - 0x41 + 10)
            case 0x61...0x66: d = UInt32(c - 0x61 + 10)
            default: throw Failure(offset: i, what: "bad \\u escape")
            }
            v = v * 16 + d
            i += 1
        }
        return v
    }
}

/// Types decoded from a parsed `JSONValue` rather than through Codable.
public protocol FastJSONDecodable {
    init(json: JSONValue) throws
}

extension JSONValue: FastJSONDecodable {
    public init(json: JSONValue) throws { self = json }
    /// Parses JSON text.
    public static func parse(_ bytes: [UInt8]) throws -> JSONValue { try JSONParser.parse(bytes) }
}

extension Unstructured: FastJSONDecodable {
    public init(json: JSONValue) throws { try self.init(object: json) }
}

extension KubeList: FastJSONDecodable where Item: FastJSONDecodable {
    public init(json: JSONValue) throws {
        let meta = try JSONCoding.decode(ListMeta.self, from: (json["metadata"] ?? [:]).serialized())
        self.init(metadata: meta, items: try (json["items"]?.arrayValue ?? []).map(Item.init(json:)))
        apiVersion = json["apiVersion"]?.stringValue
        kind = json["kind"]?.stringValue
    }
}

extension WatchEvent: FastJSONDecodable where Object: FastJSONDecodable {
    public init(json: JSONValue) throws {
        guard let t = json["type"]?.stringValue.flatMap(EventType.init(rawValue:)) else {
            throw JSONParser.Failure(offset: 0, what: "watch event without a known type")
        }
        self.init(type: t, object: try Object(json: json["object"] ?? .null))
    }
}

/// A field of parsed JSON with the wrong type: what the fast decoders throw where
/// JSONDecoder would fail too.
struct FieldTypeMismatch: Error, CustomStringConvertible {
    var field: String
    var description: String { "\(field) has the wrong type" }

    /// An optional string: nil when absent or null.
    static func string(_ v: JSONValue?, _ field: String) throws -> String? {
        switch v {
        case nil, .null?: return nil
        case .string(let s)?: return s
        default: throw FieldTypeMismatch(field: field)
        }
    }
}

/// ObjectMeta from parsed JSON, as its Codable init reads it (every object Vigil caches
/// decodes one; through Codable this was a serialization and a JSONDecoder per object).
extension ObjectMeta: FastJSONDecodable {
    public init(json: JSONValue) throws {
        typealias Mismatch = FieldTypeMismatch
        guard case .object(let o) = json else { throw Mismatch(field: "metadata") }
        func string(_ v: JSONValue?, _ field: String) throws -> String? { try FieldTypeMismatch.string(v, "metadata.\(field)") }
        func required(_ v: JSONValue?, _ field: String) throws -> String {
            guard let s = try string(v, field) else { throw Mismatch(field: "metadata.\(field)") }
            return s
        }
        func bool(_ v: JSONValue?, _ field: String) throws -> Bool? {
            switch v {
            case nil, .null?: return nil
            case .bool(let b)?: return b
            default: throw Mismatch(field: "metadata.\(field)")
            }
        }
        func map(_ v: JSONValue?, _ field: String) throws -> [String: String]? {
            switch v {
            case nil, .null?: return nil
            case .object(let m)?:
                // Keys and common values shared with every other object (`SharedStrings`).
                var out = [String: String](minimumCapacity: m.count)
                for (k, x) in m { out[SharedStrings.shared(k)] = SharedStrings.shared(try required(x, field)) }
                return out
            default: throw Mismatch(field: "metadata.\(field)")
            }
        }
        self.init(name: try string(o["name"], "name"), namespace: try string(o["namespace"], "namespace"))
        generateName = try string(o["generateName"], "generateName")
        uid = try string(o["uid"], "uid")
        resourceVersion = try string(o["resourceVersion"], "resourceVersion")
        switch o["generation"] {
        case nil, .null?: generation = nil
        case .int(let i)?: generation = i
        default: throw Mismatch(field: "metadata.generation")
        }
        creationTimestamp = try string(o["creationTimestamp"], "creationTimestamp")
        deletionTimestamp = try string(o["deletionTimestamp"], "deletionTimestamp")
        labels = try map(o["labels"], "labels")
        annotations = try map(o["annotations"], "annotations")
        switch o["ownerReferences"] {
        case nil, .null?: ownerReferences = nil
        case .array(let refs)?:
            ownerReferences = try refs.map { r in
                OwnerReference(
                    apiVersion: SharedStrings.shared(try required(r["apiVersion"], "ownerReferences.apiVersion")),
                    kind: SharedStrings.shared(try required(r["kind"], "ownerReferences.kind")),
                    name: try required(r["name"], "ownerReferences.name"), uid: try required(r["uid"], "ownerReferences.uid"),
                    controller: try bool(r["controller"], "ownerReferences.controller"), blockOwnerDeletion: try bool(r["blockOwnerDeletion"], "ownerReferences.blockOwnerDeletion")
                )
            }
        default: throw Mismatch(field: "metadata.ownerReferences")
        }
        switch o["finalizers"] {
        case nil, .null?: finalizers = nil
        case .array(let f)?: finalizers = try f.map { try required($0, "finalizers") }
        default: throw Mismatch(field: "metadata.finalizers")
        }
    }
}
