#if canImport(Glibc)
import Glibc
#endif
import KubeModel

/// A YAML writer for the documents Vigil renders, giving byte for byte what Yams (libyaml,
/// indent 2, no line width, Unicode, keys sorted) gives for the same value, in a small
/// fraction of the time: libyaml's emitter and Yams' node tree were half of a stack's
/// render time. It follows libyaml's choice of scalar style (plain, single-quoted,
/// literal block) for the scalars it can judge with certainty, and returns nil for
/// anything else (nested sequences, tabs, trailing spaces, long keys, …), where the caller
/// uses Yams. A test compares the two on every document the examples render.
enum FastYAML {
    static func document(_ value: JSONValue) -> String? {
        guard case .object(let o) = value else { return nil }
        if o.isEmpty { return "{}\n" }
        var out = ByteWriter(capacity: 4096)
        guard mapping(o, indent: 0, into: &out, firstLinePrefixed: false) else { return nil }
        return out.string
    }

    static func spaces(_ n: Int, into out: inout ByteWriter) {
        out.append(repeating: 0x20, count: n)
    }

    /// A block mapping at `indent`. With `firstLinePrefixed`, the first key follows a
    /// sequence dash already written on this line.
    static func mapping(_ o: JSONObject, indent: Int, into out: inout ByteWriter, firstLinePrefixed: Bool) -> Bool {
        var first = true
        for (key, value) in o {
            if !first || !firstLinePrefixed { spaces(indent, into: &out) }
            first = false
            guard key.utf8.count <= 128, !YAMLText.needsQuotes(key), scalar(key, explicitQuote: false, into: &out) else { return false }
            out.append(UInt8(ascii: ":"))
            switch value {
            case .object(let m) where m.isEmpty:
                out.append(" {}\n")
            case .array(let a) where a.isEmpty:
                out.append(" []\n")
            case .object(let m):
                out.append(0x0A)
                guard mapping(m, indent: indent + 2, into: &out, firstLinePrefixed: false) else { return false }
            case .array(let a):
                out.append(0x0A)
                // A sequence in a mapping is not indented further (libyaml's indentless sequence).
                guard sequence(a, indent: indent, into: &out) else { return false }
            case .string(let s) where s.containsUTF8(0x0A):
                guard literal(s, indent: indent + 2, into: &out) else { return false }
            default:
                out.append(0x20)
                guard leaf(value, into: &out) else { return false }
                out.append(0x0A)
            }
        }
        return true
    }

    static func sequence(_ a: [JSONValue], indent: Int, into out: inout ByteWriter) -> Bool {
        for item in a {
            spaces(indent, into: &out)
            out.append("- ")
            switch item {
            case .object(let m) where m.isEmpty: out.append("{}\n")
            case .array(let x) where x.isEmpty: out.append("[]\n")
            case .object(let m):
                guard mapping(m, indent: indent + 2, into: &out, firstLinePrefixed: true) else { return false }
            case .array: return false
            case .string(let s) where s.containsUTF8(0x0A): return false
            default:
                guard leaf(item, into: &out) else { return false }
                out.append(0x0A)
            }
        }
        return true
    }

    /// A scalar other than a multi-line string, as YAMLText.node styles it; false where unsure.
    static func leaf(_ value: JSONValue, into out: inout ByteWriter) -> Bool {
        switch value {
        case .null: out.append("null")
        case .bool(let b): out.append(b ? "true" : "false")
        case .int(let i): out.append(decimal: i)
        case .double(let d):
            if d.rounded() == d, abs(d) < 1e15 {
                out.append(decimal: Int(d))
            } else {
                out.append(utf8: String(d))
            }
        case .string(let s): return scalar(s, explicitQuote: YAMLText.needsQuotes(s), into: &out)
        default: return false
        }
        return true
    }

    /// A one-line string: single-quoted when asked, else plain where libyaml allows a
    /// plain scalar in block context, else single-quoted; false where unsure.
    static func scalar(_ s: String, explicitQuote: Bool, into out: inout ByteWriter) -> Bool {
        return s.withUTF8Bytes { b in
            // Control characters, and non-ASCII (printable in general, but libyaml's to
            // judge): use Yams. The same pass notes whether a `:` or `#` (an indicator inside
            // a plain scalar) is there at all.
            let (unsure, indicators) = scan(b)
            if unsure { return false }
            if explicitQuote || !plainAllowed(b, indicators: indicators) {
                // Room for every byte doubled and the quotes.
                out.writeReserved(2 * b.count + 2) { start in
                    var dst = start
                    dst.pointee = UInt8(ascii: "'")
                    dst += 1
                    for c in b {
                        dst.pointee = c
                        dst += 1
                        if c == UInt8(ascii: "'") {
                            dst.pointee = c
                            dst += 1
                        }
                    }
                    dst.pointee = UInt8(ascii: "'")
                    return dst + 1 - start
                }
            } else {
                out.append(b)
            }
            return true
        }
    }

    /// Whether `b` holds a byte FastYAML leaves to Yams (a control character, DEL or
    /// non-ASCII), and whether it holds a `:` or `#`: eight bytes at a time.
    @inline(__always)
    static func scan(_ b: UnsafeBufferPointer<UInt8>) -> (unsure: Bool, indicators: Bool) {
        guard let base = b.baseAddress else { return (false, false) }
        // A word's flags are nonzero exactly when one of its bytes matches (`ByteWords`).
        var unsure: UInt64 = 0
        var indicators: UInt64 = 0
        var i = 0
        while i + 8 <= b.count {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self).littleEndian
            unsure |= ByteWords.below(w, 0x20) | ByteWords.nonASCII(w) | ByteWords.equal(w, 0x7F)
            indicators |= ByteWords.equal(w, UInt8(ascii: ":")) | ByteWords.equal(w, UInt8(ascii: "#"))
            i += 8
        }
        var tailUnsure = false
        var tailIndicators = false
        while i < b.count {
            let c = base[i]
            tailUnsure = tailUnsure || c < 0x20 || c >= 0x7F
            tailIndicators = tailIndicators || c == UInt8(ascii: ":") || c == UInt8(ascii: "#")
            i += 1
        }
        return (unsure != 0 || tailUnsure, indicators != 0 || tailIndicators)
    }

    /// libyaml's analysis of a scalar for a plain block scalar (yaml_emitter_analyze_scalar).
    /// Without `indicators` (no `:` or `#` in the scalar) only its first byte and its ends
    /// are read.
    static func plainAllowed(_ b: UnsafeBufferPointer<UInt8>, indicators: Bool) -> Bool {
        guard let first = b.first, let last = b.last else { return false }
        if first == 0x20 || last == 0x20 { return false }
        if b.count >= 3, (b[0] == UInt8(ascii: "-") && b[1] == UInt8(ascii: "-") && b[2] == UInt8(ascii: "-"))
            || (b[0] == UInt8(ascii: ".") && b[1] == UInt8(ascii: ".") && b[2] == UInt8(ascii: "."))
        {
            return false
        }
        func followedBySpace(_ i: Int) -> Bool { i + 1 >= b.count || b[i + 1] == 0x20 }
        switch first {
        case UInt8(ascii: "#"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "&"),
            UInt8(ascii: "*"), UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""), UInt8(ascii: "%"),
            UInt8(ascii: "@"), UInt8(ascii: "`"):
            return false
        default: break
        }
        if (first == UInt8(ascii: "?") || first == UInt8(ascii: ":")) && followedBySpace(0) { return false }
        if first == UInt8(ascii: "-") && followedBySpace(0) { return false }
        guard indicators else { return true }
        for i in 1..<b.count {
            let c = b[i]
            if c == UInt8(ascii: ":") && followedBySpace(i) { return false }
            if c == UInt8(ascii: "#") && b[i - 1] == 0x20 { return false }
        }
        return true
    }

    /// A literal block (`|`, `|-`) whose lines go at `indent`; nil-like false where libyaml
    /// would choose otherwise (leading space or break, trailing spaces, tabs, kept breaks).
    static func literal(_ s: String, indent: Int, into out: inout ByteWriter) -> Bool {
        return s.withUTF8Bytes { b in
            guard let first = b.first, first != 0x20, first != 0x0A else { return false }
            for i in 0..<b.count {
                let c = b[i]
                if c == 0x0A { continue }
                if c < 0x20 || c == 0x7F || c >= 0x80 { return false }
                if c == 0x20, i + 1 == b.count || b[i + 1] == 0x0A { return false }
            }
            if b.count >= 2, b[b.count - 1] == 0x0A, b[b.count - 2] == 0x0A { return false }
            let stripped = b.last != 0x0A
            out.append(stripped ? " |-\n" : " |\n")
            // Each line of the body (without its final break), indented unless empty.
            let end = stripped ? b.count : b.count - 1
            var lineStart = 0
            for i in 0...end where i == end || b[i] == 0x0A {
                if i > lineStart {
                    spaces(indent, into: &out)
                    out.append(UnsafeBufferPointer(rebasing: b[lineStart..<i]))
                }
                out.append(0x0A)
                lineStart = i + 1
            }
            return true
        }
    }
}

extension String {
    /// Whether the UTF-8 of this string holds `byte`, read from contiguous storage where the
    /// string has it (native strings do): `utf8.contains` walks the view a byte at a time.
    func containsUTF8(_ byte: UInt8) -> Bool {
        return withUTF8Bytes { b in
            guard let p = b.baseAddress, b.count > 0 else { return false }
            return memchr(p, Int32(byte), b.count) != nil
        }
    }
}
