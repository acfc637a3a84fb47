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
