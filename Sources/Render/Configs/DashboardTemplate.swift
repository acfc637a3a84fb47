import KubeModel

/// What makes two stacks' overview dashboards differ beyond their strings: the
/// environment, the alert thresholds drawn on the panels (compared by their bits, so that
/// 0 and -0, which are written differently, are two shapes), and whether there is a logs
/// panel.
struct DashboardShape: Hashable, Sendable {
    var environment: String
    var settings: AlertSettings
    var logs: Bool

    static func == (a: DashboardShape, b: DashboardShape) -> Bool {
        a.environment == b.environment && a.settings.bits == b.settings.bits && a.logs == b.logs
    }

    func hash(into h: inout Hasher) {
        h.combine(environment)
        h.combine(settings.bits)
        h.combine(logs)
    }
}

/// The strings of one stack that its dashboard holds (the Loki ones empty without logs).
struct DashboardStrings: Sendable {
    var namespace: String
    var name: String
    var uid: String
    var prometheusName: String
    var prometheusUID: String
    var lokiName: String
    var lokiUID: String

    static let count = 7

    /// The i-th string, in the order of the fields.
    subscript(i: Int) -> String {
        switch i {
        case 0: return namespace
        case 1: return name
        case 2: return uid
        case 3: return prometheusName
        case 4: return prometheusUID
        case 5: return lokiName
        default: return lokiUID
        }
    }

    /// Each string its marker.
    static let markers = DashboardStrings(
        namespace: Markers.marker(0), name: Markers.marker(1), uid: Markers.marker(2), prometheusName: Markers.marker(3),
        prometheusUID: Markers.marker(4), lokiName: Markers.marker(5), lokiUID: Markers.marker(6)
    )
}

/// The dashboard of one shape, written once with markers for the stack's strings and cut
/// at them. Each string sits inside a JSON string, and JSON escapes byte by byte, so
/// writing a stack's strings, escaped, between the pieces gives the bytes the dashboard
/// written for that stack has (a test compares the two on hostile strings).
struct DashboardTemplate: Sendable {
    /// The text between markers: one more piece than slots.
    let pieces: [[UInt8]]
    /// Which string goes after each piece but the last.
    let slots: [Int]

    init(_ shape: DashboardShape) {
        let cut = Markers.cut(GrafanaRender.dashboardDocument(shape, .markers), count: DashboardStrings.count)
        pieces = cut.pieces.map { Array($0) }
        slots = cut.slots
    }

    /// The dashboard of one stack.
    func filled(_ strings: DashboardStrings) -> String {
        var out = ByteWriter(capacity: pieces.reduce(0) { $0 + $1.count } + 512)
        for (k, slot) in slots.enumerated() {
            pieces[k].withUnsafeBufferPointer { out.append($0) }
            JSONValue.writeEscaped(strings[slot], into: &out)
        }
        pieces[pieces.count - 1].withUnsafeBufferPointer { out.append($0) }
        return out.string
    }

    static let table = TemplateTable<DashboardShape, DashboardTemplate>()

    static func shared(_ shape: DashboardShape) -> DashboardTemplate { table.template(shape, make: DashboardTemplate.init) }
}
