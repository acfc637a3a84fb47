/// A JSON object: its members kept sorted by key (String's `<`, the order the JSON and YAML
/// writers emit), each key once.
///
/// Rendering builds thousands of small objects per stack and writes each in key order. As a
/// `[String: JSONValue]`, every key was hashed (SipHash) when the object was built and again
/// at every lookup, every object was a hash table with its own allocation, and the writers
/// sorted each object's keys again to emit them: together about a third of a render (P5).
/// A sorted array is built with a few comparisons of short keys, is written in order as it
/// stands, and finds a key by binary search.
///
/// Semantics are a dictionary's: keys are compared as `String`s (canonical equivalence, as
/// `Dictionary` does), setting a key that is there replaces its value, equality does not
/// depend on the order in which members were set.
public struct JSONObject: Sendable, Hashable {
    /// A key and its value. A bare tuple, so that a dictionary literal's elements are the
    /// members as they stand, with no copy into another type.
    public typealias Member = (String, JSONValue)

    /// Sorted by key, unique.
    @usableFromInline var members: [Member]

    @inlinable public init() { members = [] }

    @inlinable public init(minimumCapacity: Int) {
        members = []
        members.reserveCapacity(minimumCapacity)
    }

    /// From members already sorted by key and unique (the caller's promise).
    @inlinable init(sortedUnique members: [Member]) { self.members = members }

    /// From members in any order; of members with equal keys the first key and the last
    /// value stay, as `Dictionary(_:uniquingKeysWith:)` keeps them.
    @inlinable public init(unsorted members: [Member]) {
        self.members = members
        normalise()
    }

    /// Sorts the members by key, keeping the order of equal keys (a literal's are mostly
    /// in order, or nearly), then merges each run of equal keys into one member.
    @inlinable mutating func normalise() {
        let n = members.count
        guard n > 1 else { return }
        var i = 1
        while i < n, members[i - 1].0 < members[i].0 { i += 1 }
        // Strictly ascending: sorted, and no key twice.
        guard i < n else { return }
        members.withUnsafeMutableBufferPointer { m in
            if n <= 32 {
                // Insertion sort: stable, and few comparisons on short, nearly sorted input.
                for j in i..<n {
                    var k = j
                    while k > 0, m[k].0 < m[k - 1].0 {
                        m.swapAt(k, k - 1)
                        k -= 1
                    }
                }
            } else {
                // Stable: among equal keys the one set last stays last.
                m.sort { $0.0 < $1.0 }
            }
        }
        // Equal keys are now side by side: of each run, the first key (its spelling, where
        // two spellings are canonically equal) and the last value stay, as in a Dictionary.
        var duplicates = false
        for j in 1..<n where !(members[j - 1].0 < members[j].0) {
            duplicates = true
            break
        }
        guard duplicates else { return }
        var out: [Member] = []
        out.reserveCapacity(n)
        for m in members {
            if let last = out.last, last.0 == m.0 {
                out[out.count - 1].1 = m.1
            } else {
                out.append(m)
            }
        }
        members = out
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        for (x, y) in zip(a.members, b.members) where x.0 != y.0 || x.1 != y.1 { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(members.count)
        for m in members {
            hasher.combine(m.0)
            hasher.combine(m.1)
        }
    }

    public init(_ dictionary: [String: JSONValue]) {
        self.init(unsorted: dictionary.map { ($0.0, $0.1) })
    }

    public init(strings: [String: String]) {
        self.init(unsorted: strings.map { ($0.0, JSONValue.string($0.1)) })
    }

    /// From pairs meant to have unique keys; where a key repeats, the last value stays
    /// (`Dictionary(uniqueKeysWithValues:)` would trap).
    public init<S: Sequence>(uniqueKeysWithValues pairs: S) where S.Element == (String, JSONValue) {
        self.init(unsorted: Array(pairs))
    }

    /// The position of `key`, or where it would be inserted.
    @inlinable func search(_ key: String) -> (index: Int, found: Bool) {
        var low = 0
        var high = members.count
        // Small objects (most of them) are scanned: equality is cheaper than ordering.
        if high <= 8 {
            for i in 0..<high {
                let k = members[i].0
                if k == key { return (i, true) }
                if key < k { return (i, false) }
            }
            return (high, false)
        }
        while low < high {
            let mid = (low + high) / 2
            let k = members[mid].0
            if k < key {
                low = mid + 1
            } else {
                high = mid
            }
        }
        return (low, low < members.count && members[low].0 == key)
    }

    @inlinable public subscript(key: String) -> JSONValue? {
        get {
            let (i, found) = search(key)
            return found ? members[i].1 : nil
        }
        set {
            let (i, found) = search(key)
            switch (found, newValue) {
            case (true, let v?): members[i].1 = v
            case (true, nil): members.remove(at: i)
            case (false, let v?): members.insert((key, v), at: i)
            case (false, nil): break
            }
        }
        // In place: the value is moved out while it changes (so that it is not shared with
        // the array), then put back, inserted, or removed if it became nil.
        _modify {
            let (i, found) = search(key)
            var value: JSONValue? = nil
            if found { value = Swift.exchange(&members[i].1, with: .null) }
            defer {
                switch (found, value) {
                case (true, let v?): members[i].1 = v
                case (true, nil): members.remove(at: i)
                case (false, let v?): members.insert((key, v), at: i)
                case (false, nil): break
                }
            }
            yield &value
        }
    }

    public mutating func reserveCapacity(_ n: Int) { members.reserveCapacity(n) }

    @inlinable public subscript(key: String, default defaultValue: @autoclosure () -> JSONValue) -> JSONValue {
        get { self[key] ?? defaultValue() }
        set { self[key] = newValue }
    }

    /// The keys, in order.
    public var keys: [String] { members.map(\.0) }
    /// The values, in key order.
    public var values: [JSONValue] { members.map(\.1) }

    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        let (i, found) = search(key)
        guard found else { return nil }
        return members.remove(at: i).1
    }

    public func mapValues(_ transform: (JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        JSONObject(sortedUnique: try members.map { ($0.0, try transform($0.1)) })
    }

    public func compactMapValues<T>(_ transform: (JSONValue) throws -> T?) rethrows -> [String: T] {
        var d: [String: T] = [:]
        for m in members { if let t = try transform(m.1) { d[m.0] = t } }
        return d
    }

    public func filter(_ isIncluded: ((key: String, value: JSONValue)) throws -> Bool) rethrows -> JSONObject {
        JSONObject(sortedUnique: try members.filter { try isIncluded(($0.0, $0.1)) })
    }

    public mutating func merge(_ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue) rethrows {
        for m in other.members {
            if let old = self[m.0] {
                self[m.0] = try combine(old, m.1)
            } else {
                self[m.0] = m.1
            }
        }
    }

    public func merging(_ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        var o = self
        try o.merge(other, uniquingKeysWith: combine)
        return o
    }

    /// The members as a dictionary, for code that wants one.
    public var dictionary: [String: JSONValue] {
        Dictionary(members, uniquingKeysWith: { _, last in last })
    }
}

extension JSONObject: RandomAccessCollection {
    public typealias Element = (key: String, value: JSONValue)
    public typealias Index = Int
    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { members.count }
    @inlinable public subscript(position: Int) -> Element {
        let m = members[position]
        return (m.0, m.1)
    }
}

extension JSONObject: ExpressibleByDictionaryLiteral {
    public typealias Key = String
    public typealias Value = JSONValue
    @inlinable public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(unsorted: elements)
    }
}

extension JSONObject: Codable {
    struct MemberName: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([String: JSONValue].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: MemberName.self)
        for m in members { try c.encode(m.1, forKey: MemberName(stringValue: m.0)) }
    }
}

extension JSONObject: CustomStringConvertible {
    public var description: String {
        "[" + members.map { "\(String(reflecting: $0.0)): \($0.1)" }.joined(separator: ", ") + "]"
    }
}

extension Dictionary where Key == String, Value == String {
    /// The map as a JSON object of strings (labels, annotations, selectors).
    public var jsonObject: JSONObject { JSONObject(strings: self) }
}
