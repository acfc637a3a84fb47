import KubeModel

/// What makes two stacks' alert rules differ beyond their namespace and name: the
/// environment and the alert settings (compared by their bits).
struct RuleShape: Hashable, Sendable {
    var environment: Environment
    var settings: AlertSettings

    static func == (a: RuleShape, b: RuleShape) -> Bool { a.environment == b.environment && a.settings.bits == b.settings.bits }

    func hash(into h: inout Hasher) {
        h.combine(environment)
        h.combine(settings.bits)
    }
}

/// The alert rules of one shape, written once with markers for the stack's namespace and
/// name and cut at them. The rules are plain strings, put together by concatenation, so a
/// stack's strings between the pieces give what writing its rules directly gives (a test
/// compares the two on hostile strings).
struct RuleTemplate: Sendable {
    /// One string field of a rule: the text between markers, and which string goes after
    /// each piece but the last (0 the namespace, 1 the name).
    struct Text: Sendable {
        let pieces: [String]
        let slots: [Int]

        init(_ text: String) {
            let cut = Markers.cut(text, count: 2)
            pieces = cut.pieces.map { String(decoding: $0, as: UTF8.self) }
            slots = cut.slots
        }

        func filled(_ strings: (String, String)) -> String {
            if slots.isEmpty { return pieces[0] }
            var out = ""
            out.reserveCapacity(pieces.reduce(0) { $0 + $1.utf8.count } + slots.count * max(strings.0.utf8.count, strings.1.utf8.count))
            for (k, slot) in slots.enumerated() {
                out += pieces[k]
                out += slot == 0 ? strings.0 : strings.1
            }
            out += pieces[pieces.count - 1]
            return out
        }
    }

    /// The rules with markers, and their fields that take strings.
    let rules: [AlertRule]
    let texts: [(expr: Text, summary: Text, description: Text, runbook: Text)]

    init(_ shape: RuleShape) {
        rules = PrometheusRules.rules(environment: shape.environment, settings: shape.settings, namespace: Markers.marker(0), name: Markers.marker(1))
        texts = rules.map { (Text($0.expr), Text($0.summary), Text($0.description), Text($0.runbook)) }
    }

    /// The rules of the stack `namespace/name`.
    func filled(namespace: String, name: String) -> [AlertRule] {
        var out = rules
        for i in out.indices {
            let t = texts[i]
            out[i].expr = t.expr.filled((namespace, name))
            out[i].summary = t.summary.filled((namespace, name))
            out[i].description = t.description.filled((namespace, name))
            out[i].runbook = t.runbook.filled((namespace, name))
        }
        return out
    }

    static let table = TemplateTable<RuleShape, RuleTemplate>()

    static func shared(_ shape: RuleShape) -> RuleTemplate { table.template(shape, make: RuleTemplate.init) }
}

/// `alerts.yml` of one rule shape, written once with ASCII markers for the stack's
/// namespace and name and cut at them. The file is YAML, whose scalar styles depend on a
/// scalar's whole text, so it is filled only with Kubernetes names (lower-case letters,
/// digits, `-` and `.`), and two kinds of place are told apart:
/// - inside a longer scalar (rule text, the group's name), where such a name changes
///   nothing of the scalar's style and is copied as it is;
/// - a whole scalar (the `namespace` and `stack` labels), written as the YAML writer writes
///   it (`123` or `true` quoted, say).
/// Other strings (a stack file read offline) get the file written out.
struct AlertsFileTemplate: Sendable {
    /// The markers: namespace and name inside a scalar (0, 1), namespace and name as the
    /// whole scalar (2, 3). Made of the names' own letters, so the scalars holding them take
    /// the style they take with a name.
    static func marker(_ i: Int) -> String { "zzvigilmark\(i)zz" }

    let pieces: [[UInt8]]
    let slots: [Int]

    init?(_ shape: RuleShape) {
        let rules = PrometheusRules.rules(environment: shape.environment, settings: shape.settings, namespace: Self.marker(0), name: Self.marker(1))
        let groups = PrometheusRules.groups(
            environment: shape.environment.rawValue, rules: rules, namespace: Self.marker(0), name: Self.marker(1),
            namespaceLabel: Self.marker(2), nameLabel: Self.marker(3)
        )
        guard let text = try? YAMLText.document(["groups": groups]) else { return nil }
        let prefix = Array("zzvigilmark".utf8)
        let cut = Markers.cut(text) { b, i in
            let d = i + prefix.count
            guard d + 2 < b.count, b[i..<d].elementsEqual(prefix), b[d] >= UInt8(ascii: "0"), b[d] <= UInt8(ascii: "3"),
                b[d + 1] == UInt8(ascii: "z"), b[d + 2] == UInt8(ascii: "z")
            else { return nil }
            return (Int(b[d] - UInt8(ascii: "0")), prefix.count + 3)
        }
        pieces = cut.pieces.map { Array($0) }
        slots = cut.slots
    }

    /// Whether `s` is a name this template may be filled with.
    static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { c in (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") }
    }

    /// The file of the stack `namespace/name`, or nil when either is not a name.
    func filled(namespace: String, name: String) -> String? {
        guard Self.isName(namespace), Self.isName(name) else { return nil }
        var out = ByteWriter(capacity: pieces.reduce(0) { $0 + $1.count } + slots.count * max(namespace.utf8.count, name.utf8.count) + 64)
        for (k, slot) in slots.enumerated() {
            pieces[k].withUnsafeBufferPointer { out.append($0) }
            let value = slot % 2 == 0 ? namespace : name
            if slot < 2 {
                out.append(utf8: value)
            } else {
                guard FastYAML.leaf(.string(value), into: &out) else { return nil }
            }
        }
        pieces[pieces.count - 1].withUnsafeBufferPointer { out.append($0) }
        return out.string
    }

    static let table = TemplateTable<RuleShape, AlertsFileTemplate?>()

    static func shared(_ shape: RuleShape) -> AlertsFileTemplate? { table.template(shape, make: AlertsFileTemplate.init) }
}
