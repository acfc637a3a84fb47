import Foundation

/// The JSON coders Vigil uses everywhere: sorted keys, so that the same object always
/// gives the same bytes (and the same hash).
public enum JSONCoding {
    public static func encoder() -> JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder { JSONDecoder() }

    public static func encode(_ value: some Encodable) throws -> [UInt8] {
        // Free-form JSON (every apply body) is written directly: the same bytes
        // (JSONSerializationTests), and JSONEncoder's Codable path for it was 7 % of Vigil's
        // CPU while converging (BENCHMARKS.md, P1).
        if let json = value as? JSONValue { return json.serialized() }
        return Array(try encoder().encode(value))
    }

    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        // Free-form JSON and the objects kept as it skip Codable (see JSONParser).
        if let fast = T.self as? any FastJSONDecodable.Type {
            return try fast.init(json: JSONParser.parse(Array(bytes))) as! T
        }
        return try decoder().decode(type, from: Data(bytes))
    }
}
