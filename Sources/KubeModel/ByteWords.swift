/// Eight bytes at a time ("SWAR"): the bit tricks the JSON and YAML writers scan strings
/// with. Each returns the high bit of every byte of `word` (read little-endian) that
/// matches; bytes above the lowest match may be flagged falsely (a borrow carries on), the
/// lowest never is, so a result is nonzero exactly when some byte matches.
public enum ByteWords {
    public static let ones: UInt64 = 0x0101_0101_0101_0101
    public static let highs: UInt64 = 0x8080_8080_8080_8080

    /// Bytes equal to `byte`.
    @inlinable @inline(__always)
    public static func equal(_ word: UInt64, _ byte: UInt8) -> UInt64 {
        let x = word ^ (ones &* UInt64(byte))
        return (x &- ones) & ~x & highs
    }

    /// Bytes below `bound` (at most 0x80).
    @inlinable @inline(__always)
    public static func below(_ word: UInt64, _ bound: UInt8) -> UInt64 {
        (word &- ones &* UInt64(bound)) & ~word & highs
    }

    /// Bytes of 0x80 and above (not ASCII).
    @inlinable @inline(__always)
    public static func nonASCII(_ word: UInt64) -> UInt64 { word & highs }
}

extension String {
    /// Calls `body` with the string's UTF-8, borrowed from its storage where it is
    /// contiguous (native and small strings), else from a contiguous copy. The writers call
    /// this for every key and value they write: `var s = s; s.withUTF8 { … }` retained and
    /// released each string to copy it first (a tenth of the reference counting of a
    /// render, P5).
    @inlinable @inline(__always)
    public func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let r = try utf8.withContiguousStorageIfAvailable(body) { return r }
        var s = self
        return try s.withUTF8(body)
    }
}
