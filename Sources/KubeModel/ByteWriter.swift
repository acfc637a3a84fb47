/// A growable byte buffer for the JSON and YAML writers: appends are a capacity check and
/// a copy. `[UInt8].append` checks uniqueness and goes through its generic sequence path
/// for every run of bytes, and escaping a config of many short lines appends thousands of
/// short runs (a tenth of a render, P5).
public struct ByteWriter: ~Copyable {
    @usableFromInline var base: UnsafeMutablePointer<UInt8>
    @usableFromInline var written = 0
    public var count: Int { written }
    @usableFromInline var capacity: Int

    public init(capacity: Int = 1024) {
        self.capacity = Swift.max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// Room for `n` more bytes.
    @inlinable @inline(__always)
    public mutating func reserve(_ n: Int) {
        if written + n > capacity { grow(written + n) }
    }

    @usableFromInline @inline(never)
    mutating func grow(_ needed: Int) {
        let newCapacity = Swift.max(needed, capacity * 2)
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        p.update(from: base, count: written)
        base.deallocate()
        base = p
        capacity = newCapacity
    }

    @inlinable @inline(__always)
    public mutating func append(_ byte: UInt8) {
        reserve(1)
        base[written] = byte
        written += 1
    }

    /// Appends a byte known to fit (after `reserve`).
    @inlinable @inline(__always)
    public mutating func appendReserved(_ byte: UInt8) {
        base[written] = byte
        written += 1
    }

    @inlinable @inline(__always)
    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let p = bytes.baseAddress, bytes.count > 0 else { return }
        reserve(bytes.count)
        (base + written).update(from: p, count: bytes.count)
        written += bytes.count
    }

    /// ASCII text given as a literal.
    @inlinable @inline(__always)
    public mutating func append(_ text: StaticString) {
        append(UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// The UTF-8 of a string.
    @inlinable
    public mutating func append(utf8 text: String) {
        text.withUTF8Bytes { append($0) }
    }

    @inlinable
    public mutating func append(repeating byte: UInt8, count n: Int) {
        guard n > 0 else { return }
        reserve(n)
        (base + written).initialize(repeating: byte, count: n)
        written += n
    }

    /// The decimal digits of `value`.
    @inlinable
    public mutating func append(decimal value: Int) {
        reserve(20)
        var v = value.magnitude
        if value < 0 { appendReserved(UInt8(ascii: "-")) }
        let start = written
        repeat {
            appendReserved(UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: v % 10))
            v /= 10
        } while v > 0
        var i = start
        var j = written - 1
        while i < j {
            swap(&base[i], &base[j])
            i += 1
            j -= 1
        }
    }

    /// Lends `body` room for `n` more bytes at the end; it returns how many it wrote.
    @inlinable @inline(__always)
    public mutating func writeReserved(_ n: Int, _ body: (UnsafeMutablePointer<UInt8>) throws -> Int) rethrows {
        reserve(n)
        let wrote = try body(base + written)
        precondition(wrote >= 0 && wrote <= n, "ByteWriter: wrote past its reservation")
        written += wrote
    }

    /// The bytes written so far.
    @inlinable
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: written))
    }

    public var bytes: [UInt8] { withBytes { Array($0) } }
    public var string: String { withBytes { String(decoding: $0, as: UTF8.self) } }
}
