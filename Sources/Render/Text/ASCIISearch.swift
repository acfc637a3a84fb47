extension StringProtocol {
    /// The first occurrence of an ASCII `needle` (such as `://`), found in the UTF-8 bytes:
    /// Foundation's `range(of:)` bridges to NSString for every call, which was a few percent
    /// of a render (P5).
    func firstRange(ofASCII needle: StaticString) -> Range<Index>? {
        let n = UnsafeBufferPointer(start: needle.utf8Start, count: needle.utf8CodeUnitCount)
        guard let first = n.first else { return nil }
        let u = utf8
        var i = u.startIndex
        while i != u.endIndex {
            if u[i] == first {
                var j = u.index(after: i)
                var k = 1
                while k < n.count, j != u.endIndex, u[j] == n[k] {
                    u.formIndex(after: &j)
                    k += 1
                }
                if k == n.count { return i..<j }
            }
            u.formIndex(after: &i)
        }
        return nil
    }
}
