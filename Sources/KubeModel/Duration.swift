/// Parses the spec's durations: Go syntax plus a `d` (24 h) unit, for example `90d`, `24h`, `1h30m`.
public enum DurationParser {
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var input: String
        public var description: String { "invalid duration \"\(input)\": use units ms, s, m, h, d, for example 90d or 1h30m" }
    }

    /// Seconds in `text`.
    public static func seconds(_ text: String) throws(ParseError) -> Double {
        var total = 0.0
        var rest = Substring(text)
        guard !rest.isEmpty else { throw ParseError(input: text) }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard !number.isEmpty, let value = Double(number) else { throw ParseError(input: text) }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter }
            rest = rest.dropFirst(unit.count)
            switch unit {
            case "ms": total += value / 1000
            case "s": total += value
            case "m": total += value * 60
            case "h": total += value * 3600
            case "d": total += value * 86400
            default: throw ParseError(input: text)
            }
        }
        return total
    }
}
