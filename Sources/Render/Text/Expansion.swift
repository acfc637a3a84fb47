import KubeModel

/// `$` expansion, for each consumer in one place. The collector expands `${env:…}`,
/// `${file:…}`, `${http(s):…}` and `${VAR}` in its config, and Grafana expands `$VAR` and
/// `${VAR}` in provisioning files: a user string reaching either with a `$` could read the
/// consumer's environment or files. Every `$` is written `$$` (both read `$$` as one `$`),
/// except in the references Vigil writes itself.
public enum Expansion {
    /// The collector config with every `$` escaped, but the credential references Vigil
    /// writes: `${env:NAME}`, alone, as the token, username or password of an extension.
    public static func escapeCollector(_ config: JSONValue) -> JSONValue {
        map(config, path: []) { path, s in isOwnCollectorReference(path: path, value: s) ? s : escape(s) }
    }

    /// A Grafana provisioning document's strings, every `$` escaped (Vigil's own Grafana
    /// variables are written with one `$` and escaped here like everything else).
    public static func escapeGrafana(_ document: JSONValue) -> JSONValue {
        var path: [String] = []
        return changed(document, path: &path, tracksPath: false) { _, s in s.replacingDollars() } ?? document
    }

    /// `$` as `$$`.
    public static func escape(_ s: String) -> String {
        s.containsUTF8(UInt8(ascii: "$")) ? s.replacingDollars() : s
    }

    /// Whether a string of the collector config is one of Vigil's own `${env:NAME}`
    /// references: only extension credentials are, and the node's name (the downward API's
    /// `K8S_NODE_NAME`) as a resource attribute's value; only whole.
    public static func isOwnCollectorReference(path: [String], value: String) -> Bool {
        if path.count >= 2, path[0] == "processors", path[1] == "resource", path.last == "value" { return value == "${env:K8S_NODE_NAME}" }
        guard path.first == "extensions", let key = path.last, key == "token" || key == "username" || key == "password" else { return false }
        return isEnvReference(value)
    }

    /// Whether `s` is exactly `${env:NAME}` with NAME of capitals, digits and `_`: bytes,
    /// which for these ASCII-only forms is the same as Characters and a hundred times
    /// cheaper.
    static func isEnvReference(_ s: String) -> Bool {
        s.withUTF8Bytes { b in
            let prefix: StaticString = "${env:"
            let n = prefix.utf8CodeUnitCount
            guard b.count > n + 1, b[b.count - 1] == UInt8(ascii: "}") else { return false }
            for i in 0..<n where b[i] != prefix.utf8Start[i] { return false }
            for c in b[n..<(b.count - 1)] {
                guard (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "_") else { return false }
            }
            return true
        }
    }

    /// Expansions a consumer would perform in `s`: each `$` not written `$$`, with what
    /// follows it (for messages).
    public static func unescaped(_ s: String) -> [String] {
        var found: [String] = []
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            if chars[i] == "$" {
                if i + 1 < chars.count, chars[i + 1] == "$" {
                    i += 2
                    continue
                }
                found.append(String(chars[i..<min(chars.count, i + 24)]))
            }
            i += 1
        }
        return found
    }

    /// The expansions written in a user's string: `${…}`, or `$` and a variable name
    /// (`$$` is an escaped `$`, no expansion).
    public static func expansions(in s: String) -> [String] {
        var found: [String] = []
        let chars = Array(s)
        var i = 0
        while i < chars.count {
            guard chars[i] == "$" else {
                i += 1
                continue
            }
            if i + 1 < chars.count, chars[i + 1] == "$" {
                i += 2
                continue
            }
            if i + 1 < chars.count, chars[i + 1] == "{" || chars[i + 1] == "_" || (chars[i + 1].isASCII && chars[i + 1].isLetter) {
                found.append(String(chars[i..<min(chars.count, i + 40)]))
            }
            i += 1
        }
        return found
    }

    /// Every string of a JSON tree with its field path (`a.b[2].c`).
    public static func strings(_ v: JSONValue, path: String) -> [(path: String, value: String)] {
        switch v {
        case .string(let s): return [(path, s)]
        case .object(let o): return o.sorted { $0.key < $1.key }.flatMap { strings($0.value, path: path.isEmpty ? $0.key : "\(path).\($0.key)") }
        case .array(let a): return a.enumerated().flatMap { strings($1, path: "\(path)[\($0)]") }
        default: return []
        }
    }

    /// `v` with `f` applied to each string that holds a `$` (`f` leaves any other string as
    /// it is: there is nothing to escape), given its path of object keys. Subtrees without a
    /// changed string are kept as they are, not rebuilt.
    static func map(_ v: JSONValue, path: [String], _ f: ([String], String) -> String) -> JSONValue {
        var path = path
        return changed(v, path: &path, tracksPath: true, f) ?? v
    }

    /// The new value, or nil when nothing in `v` changes. Without `tracksPath`, `f` is given
    /// no path (Grafana's documents are large, and nobody reads their paths).
    private static func changed(_ v: JSONValue, path: inout [String], tracksPath: Bool, _ f: ([String], String) -> String) -> JSONValue? {
        switch v {
        case .string(let s):
            guard s.containsUTF8(UInt8(ascii: "$")) else { return nil }
            let r = f(path, s)
            return r == s ? nil : .string(r)
        case .object(let o):
            var out: JSONObject? = nil
            for (k, x) in o {
                if tracksPath { path.append(k) }
                if let n = changed(x, path: &path, tracksPath: tracksPath, f) {
                    if out == nil { out = o }
                    out![k] = n
                }
                if tracksPath { path.removeLast() }
            }
            return out.map { .object($0) }
        case .array(let a):
            var out: [JSONValue]? = nil
            for (i, x) in a.enumerated() {
                if let n = changed(x, path: &path, tracksPath: tracksPath, f) {
                    if out == nil { out = a }
                    out![i] = n
                }
            }
            return out.map { .array($0) }
        default: return nil
        }
    }
}

extension String {
    /// Every `$` doubled, byte by byte: `$` is ASCII, so no character is split.
    fileprivate func replacingDollars() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(utf8.count + 8)
        for byte in utf8 {
            out.append(byte)
            if byte == UInt8(ascii: "$") { out.append(byte) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
