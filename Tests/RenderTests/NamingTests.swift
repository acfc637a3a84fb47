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
}
