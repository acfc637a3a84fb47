import KubeModel
import Synchronization

/// What makes two stacks' overview dashboards differ beyond their strings: the
/// environment, the alert thresholds drawn on the panels, and whether there is a logs
/// panel. The thresholds are compared by their bits, so that two values that are equal
/// but written differently (0 and -0) are two shapes.
struct DashboardShape: Hashable, Sendable {
    var environment: String
    var settings: AlertSettings
    var logs: Bool

    static func == (a: DashboardShape, b: DashboardShape) -> Bool { a.key == b.key }
    func hash(into h: inout Hasher) { h.combine(key) }

    private var key: Key {
        Key(
            environment: environment, latencyP95Ms: settings.latencyP95Ms, errorRatio: settings.errorRatio.bitPattern,
            cpuUtilization: settings.cpuUtilization.bitPattern, memoryUtilization: settings.memoryUtilization.bitPattern, logs: logs
        )
    }

    private struct Key: Hashable {
        var environment: String
        var latencyP95Ms: Int
        var errorRatio: UInt64
        var cpuUtilization: UInt64
        var memoryUtilization: UInt64
        var logs: Bool
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

    init(namespace: String, name: String, uid: String, prometheusName: String, prometheusUID: String, lokiName: String, lokiUID: String) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.prometheusName = prometheusName
        self.prometheusUID = prometheusUID
        self.lokiName = lokiName
        self.lokiUID = lokiUID
    }

    /// The i-th string, in the order of `init`.
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

    /// Each string a marker: one private-use character, U+E000 and its index, which no
    /// other text of the dashboard holds (its other text is Vigil's own).
    static let markers = DashboardStrings(
        namespace: marker(0), name: marker(1), uid: marker(2), prometheusName: marker(3), prometheusUID: marker(4), lokiName: marker(5),
        lokiUID: marker(6)
    )

    static func marker(_ i: Int) -> String { String(Character(Unicode.Scalar(0xE000 + UInt32(i))!)) }
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
        let text = Array(GrafanaRender.dashboardDocument(shape, .markers).utf8)
        var pieces: [[UInt8]] = []
        var slots: [Int] = []
        var start = 0
        var i = 0
        // U+E000 + k is EE 80 80+k in UTF-8.
        while i + 2 < text.count {
            if text[i] == 0xEE, text[i + 1] == 0x80, text[i + 2] >= 0x80, Int(text[i + 2] - 0x80) < DashboardStrings.count {
                pieces.append(Array(text[start..<i]))
                slots.append(Int(text[i + 2] - 0x80))
                i += 3
                start = i
            } else {
                i += 1
            }
        }
        pieces.append(Array(text[start...]))
        self.pieces = pieces
        self.slots = slots
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

    /// Templates already made, by shape. A cluster's stacks have few shapes; thresholds are
    /// the user's, so the table is emptied when it reaches `limit` rather than grow.
    private static let made = Mutex<[DashboardShape: DashboardTemplate]>([:])
    static let limit = 64
    /// How many templates the table holds (tests).
    static var count: Int { made.withLock { $0.count } }

    static func shared(_ shape: DashboardShape) -> DashboardTemplate {
        if let t = made.withLock({ $0[shape] }) { return t }
        let t = DashboardTemplate(shape)
        made.withLock { table in
            if table.count >= limit { table.removeAll() }
            table[shape] = t
        }
        return t
    }
}
