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
