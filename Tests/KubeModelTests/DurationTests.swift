import Foundation
import KubeModel
import Testing

@Suite struct DurationTests {
    @Test(arguments: [("90d", 7_776_000.0), ("24h", 86400), ("1h30m", 5400), ("500ms", 0.5), ("1.5h", 5400), ("2d12h", 216_000)])
    func parses(_ text: String, _ seconds: Double) throws {
        #expect(try DurationParser.seconds(text) == seconds)
    }

    @Test(arguments: ["", "10", "h", "10x", "1h-5m", "-1h", "1 h"])
    func rejects(_ text: String) {
        #expect(throws: DurationParser.ParseError.self) { try DurationParser.seconds(text) }
    }
}
