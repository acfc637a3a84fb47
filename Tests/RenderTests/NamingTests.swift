import KubeModel
import Render
import Testing

@Suite struct NamingTests {
    @Test func shortNamesAreKept() {
        #expect(Naming.collector("prod") == "prod-collector")
    }

    @Test func longNamesAreCutWithAHashAndStayUnique() {
        let a = String(repeating: "a", count: 70)
        let b = String(repeating: "a", count: 69) + "b"
        let na = Naming.collector(a)
        let nb = Naming.collector(b)
        #expect(na.count <= 63 && nb.count <= 63)
        #expect(na != nb)
        #expect(!na.contains("--"))
    }

    /// The hash suffix is the first 8 hex digits of the whole name's sha256 (computed here by
    /// Python's hashlib): a change would rename every long-named stack's objects on upgrade.
    @Test func theHashSuffixIsPinned() {
        let name = String(repeating: "a", count: 60)
        #expect(Naming.collector(name) == String(repeating: "a", count: 54) + "-23a7f429")
    }
}
