import KubeModel
import Synchronization

/// Documents that stacks of one shape share but for a few strings are written once with a
/// marker in each string's place, cut at the markers, and filled per stack
/// (`DashboardTemplate`, `RuleTemplate`, `AlertsFileTemplate`).
enum Markers {
    /// The marker of the i-th string: one private-use character, U+E000 + i, which no text
    /// Vigil writes itself holds.
    static func marker(_ i: Int) -> String { String(Character(Unicode.Scalar(0xE000 + UInt32(i))!)) }

    /// `text` cut at the markers of strings `0..<count`: one more piece than slots, and the
    /// string each slot takes. U+E000 + i is EE 80 80+i in UTF-8.
    static func cut(_ text: String, count: Int) -> (pieces: [ArraySlice<UInt8>], slots: [Int]) {
        cut(text) { b, i in
            guard i + 2 < b.count, b[i] == 0xEE, b[i + 1] == 0x80, b[i + 2] >= 0x80, Int(b[i + 2] - 0x80) < count else { return nil }
            return (Int(b[i + 2] - 0x80), 3)
        }
    }

    /// `text` cut where `marker` finds a marker at a byte offset (its slot and length).
    static func cut(_ text: String, marker: ([UInt8], Int) -> (slot: Int, length: Int)?) -> (pieces: [ArraySlice<UInt8>], slots: [Int]) {
        let bytes = Array(text.utf8)
        var pieces: [ArraySlice<UInt8>] = []
        var slots: [Int] = []
        var start = 0
        var i = 0
        while i < bytes.count {
            if let (slot, length) = marker(bytes, i) {
                pieces.append(bytes[start..<i])
                slots.append(slot)
                i += length
                start = i
            } else {
                i += 1
            }
        }
        pieces.append(bytes[start...])
        return (pieces, slots)
    }
}

/// Templates already made, by shape. A cluster's stacks have few shapes, but shapes hold
/// what users write (thresholds), so the table is emptied when it reaches `limit` rather
/// than grow.
final class TemplateTable<Shape: Hashable & Sendable, Template: Sendable>: Sendable {
    private let made = Mutex<[Shape: Template]>([:])
    let limit: Int

    init(limit: Int = 64) { self.limit = limit }

    /// The template of `shape`, made by `make` (outside the lock) when the table has none.
    func template(_ shape: Shape, make: (Shape) -> Template) -> Template {
        if let t = made.withLock({ $0[shape] }) { return t }
        let t = make(shape)
        made.withLock { table in
            if table.count >= limit { table.removeAll() }
            table[shape] = t
        }
        return t
    }

    /// How many templates the table holds (tests).
    var count: Int { made.withLock { $0.count } }
}

extension AlertSettings {
    /// The settings compared by their bits (0 and -0 apart): a template's shape holds them,
    /// and two shapes that compare equal must render the same text.
    struct Bits: Hashable, Sendable {
        var latencyP95Ms: Int
        var errorRatio: UInt64
        var cpuUtilization: UInt64
        var memoryUtilization: UInt64
        var forSeconds: Int
        var collectorDownForSeconds: Int
    }

    var bits: Bits {
        Bits(
            latencyP95Ms: latencyP95Ms, errorRatio: errorRatio.bitPattern, cpuUtilization: cpuUtilization.bitPattern,
            memoryUtilization: memoryUtilization.bitPattern, forSeconds: forSeconds, collectorDownForSeconds: collectorDownForSeconds
        )
    }
}
