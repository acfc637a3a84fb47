/// An arbitrary JSON document: used for free-form parts of Kubernetes objects (CRD schemas,
/// collector configs, `Status.details`) and for comparing desired and live objects.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? c.decode(Int.self) {
            self = .int(i)
        } else if let d = try? c.decode(Double.self) {
            self = .double(d)
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try c.decode(JSONObject.self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .int(let i): try c.encode(i)
        case .double(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// A member of an object. Setting on a value that is not an object does nothing.
    ///
    /// Changed in place: the object is taken out of `self` while it changes, so that a
    /// nested change (`v["spec"]?["template"]?["metadata"] = …`) copies nothing on the way.
    public subscript(key: String) -> JSONValue? {
        get {
            if case .object(let o) = self { return o[key] }
            return nil
        }
        set {
            guard case .object(var o) = self else { return }
            self = .null
            o[key] = newValue
            self = .object(o)
        }
        _modify {
            guard case .object(var o) = self else {
                var ignored: JSONValue? = nil
                yield &ignored
                return
            }
            self = .null
            defer { self = .object(o) }
            yield &o[key]
        }
    }

    public var intValue: Int? {
        if case .int(let i) = self { return i }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// True when every field set in `self` is present with an equal value in `other`.
    /// Arrays must have the same length and match element by element. Numbers compare by
    /// value, so `1` matches `1.0` as the API server may return either.
    public func isSubset(of other: JSONValue) -> Bool {
        switch (self, other) {
        case (.object(let a), .object(let b)):
            for (k, v) in a {
                guard let ov = b[k] else {
                    // The API server drops null, and empty maps and lists it stores as
                    // absent (a Secret's `data: {}`): those match a missing field.
                    switch v {
                    case .null: continue
                    case .object(let o) where o.isEmpty: continue
                    case .array(let x) where x.isEmpty: continue
                    default: return false
                    }
                }
                if !v.isSubset(of: ov) { return false }
            }
            return true
        case (.array(let a), .array(let b)):
            guard a.count == b.count else { return false }
            return zip(a, b).allSatisfy { $0.isSubset(of: $1) }
        case (.int(let a), .double(let b)): return Double(a) == b
        case (.double(let a), .int(let b)): return a == Double(b)
        default: return self == other
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(unsorted: elements))
    }
}

extension JSONValue {
    /// The same bytes as `JSONCoding.encode(self)` (sorted keys, unescaped slashes), written
    /// directly: rendering hashes every desired object, and the Codable path through
    /// JSONEncoder was a fifth of a stack's render time.
    public func serialized() -> [UInt8] {
        var out = ByteWriter(capacity: 1024)
        write(into: &out)
        return out.bytes
    }

    /// The serialised bytes, lent to `body` without a copy (to hash them).
    public func withSerialized<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        var out = ByteWriter(capacity: 4096)
        write(into: &out)
        return try out.withBytes(body)
    }

    func write(into out: inout ByteWriter) {
        switch self {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(decimal: i)
        case .double(let d):
            var s = d.description
            if s.hasSuffix(".0") { s.removeLast(2) }
            out.append(utf8: s)
        case .string(let s): Self.writeString(s, into: &out)
        case .array(let a):
            out.append(UInt8(ascii: "["))
            var first = true
            for v in a {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                v.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let o):
            out.append(UInt8(ascii: "{"))
            var first = true
            for m in o.members {
                if !first { out.append(UInt8(ascii: ",")) }
                first = false
                Self.writeString(m.0, into: &out)
                out.append(UInt8(ascii: ":"))
                m.1.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ s: String, into out: inout ByteWriter) {
        out.append(UInt8(ascii: "\""))
        writeEscaped(s, into: &out)
        out.append(UInt8(ascii: "\""))
    }

    /// `s` as the inside of a JSON string, without its quotes: escaping is byte by byte, so
    /// the escaped parts of a string, put together, are the escaped string (a template's
    /// text and the strings written into it).
    public static func writeEscaped(_ s: String, into out: inout ByteWriter) {
        s.withUTF8Bytes { bytes in
            guard let source = bytes.baseAddress else { return }
            // A chunk at a time, with room for its worst case (every byte `\u00XX`), so
            // that bytes are stored without a check each: eight bytes at a time where none
            // needs escaping (most strings, and the runs between a config's line breaks),
            // stored whole even when some do, the pointer then advancing past the clean ones.
            var offset = 0
            while offset < bytes.count {
                let chunk = Swift.min(bytes.count - offset, 4096)
                out.writeReserved(chunk * 6) { start in
                    var dst = start
                    let src = source + offset
                    var i = 0
                    while i + 8 <= chunk {
                        let word = UnsafeRawPointer(src + i).loadUnaligned(as: UInt64.self)
                        // The lowest byte the mask flags is always one to escape.
                        let flags = escapeFlags(word.littleEndian)
                        UnsafeMutableRawPointer(dst).storeBytes(of: word, as: UInt64.self)
                        if flags == 0 {
                            dst += 8
                            i += 8
                            continue
                        }
                        let clean = flags.trailingZeroBitCount / 8
                        dst += clean
                        i += clean
                        dst = escape(src[i], to: dst)
                        i += 1
                    }
                    while i < chunk {
                        let byte = src[i]
                        if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                            dst = escape(byte, to: dst)
                        } else {
                            dst.pointee = byte
                            dst += 1
                        }
                        i += 1
                    }
                    return dst - start
                }
                offset += chunk
            }
        }
    }

    /// Writes the escape of a control character, `"` or `\` at `dst` (two bytes, or six
    /// for `\u00XX`); returns the position after it.
    @inline(__always)
    static func escape(_ byte: UInt8, to dst: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        dst[0] = UInt8(ascii: "\\")
        let short: UInt8
        switch byte {
        case UInt8(ascii: "\""): short = UInt8(ascii: "\"")
        case UInt8(ascii: "\\"): short = UInt8(ascii: "\\")
        case 0x0A: short = UInt8(ascii: "n")
        case 0x0D: short = UInt8(ascii: "r")
        case 0x09: short = UInt8(ascii: "t")
        case 0x08: short = UInt8(ascii: "b")
        case 0x0C: short = UInt8(ascii: "f")
        default:
            let hex: StaticString = "0123456789abcdef"
            dst[1] = UInt8(ascii: "u")
            dst[2] = UInt8(ascii: "0")
            dst[3] = UInt8(ascii: "0")
            dst[4] = hex.utf8Start[Int(byte >> 4)]
            dst[5] = hex.utf8Start[Int(byte & 0xF)]
            return dst + 6
        }
        dst[1] = short
        return dst + 2
    }

    /// The bytes of `word` that JSON escapes: control characters, `"` and `\` (`ByteWords`:
    /// the lowest flagged byte is always one).
    @inline(__always)
    static func escapeFlags(_ word: UInt64) -> UInt64 {
        ByteWords.below(word, 0x20) | ByteWords.equal(word, UInt8(ascii: "\"")) | ByteWords.equal(word, UInt8(ascii: "\\"))
    }
}
