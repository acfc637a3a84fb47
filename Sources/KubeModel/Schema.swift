/// A small builder for OpenAPI v3 structural schemas, as CustomResourceDefinitions carry them.
public indirect enum Schema: Sendable, Hashable {
    case object(description: String, properties: [String: Schema], required: [String] = [])
    case map(description: String, values: Schema)
    /// `listMapKeys` makes it `x-kubernetes-list-type: map` keyed by those fields, so that
    /// several field managers can each own entries (conditions, by `type`).
    case array(description: String, items: Schema, maxItems: Int? = nil, listMapKeys: [String]? = nil)
    case string(description: String, enum: [String]? = nil, pattern: String? = nil, maxLength: Int? = nil, format: String? = nil, default: String? = nil)
    case integer(description: String, minimum: Int? = nil, maximum: Int? = nil)
    case number(description: String, minimum: Double? = nil, maximum: Double? = nil)
    case boolean(description: String)
    /// `type: object` alone, as CRDs must declare `metadata`.
    case bareObject

    /// The schema as the `openAPIV3Schema` JSON of a CRD.
    public var json: JSONValue {
        switch self {
        case .object(let description, let properties, let required):
            var o: JSONObject = [
                "type": "object", "description": .string(description),
                "properties": .object(JSONObject(properties.mapValues(\.json))),
            ]
            if !required.isEmpty { o["required"] = .array(required.sorted().map(JSONValue.string)) }
            return .object(o)
        case .map(let description, let values):
            return ["type": "object", "description": .string(description), "additionalProperties": values.json]
        case .array(let description, let items, let maxItems, let keys):
            var o: JSONObject = ["type": "array", "description": .string(description), "items": items.json]
            if let maxItems { o["maxItems"] = .int(maxItems) }
            if let keys {
                o["x-kubernetes-list-type"] = "map"
                o["x-kubernetes-list-map-keys"] = .array(keys.map(JSONValue.string))
            }
            return .object(o)
        case .string(let description, let values, let pattern, let maxLength, let format, let def):
            var o: JSONObject = ["type": "string", "description": .string(description)]
            if let values { o["enum"] = .array(values.map(JSONValue.string)) }
            if let pattern { o["pattern"] = .string(pattern) }
            if let maxLength { o["maxLength"] = .int(maxLength) }
            if let format { o["format"] = .string(format) }
            if let def { o["default"] = .string(def) }
            return .object(o)
        case .integer(let description, let minimum, let maximum):
            var o: JSONObject = ["type": "integer", "description": .string(description)]
            if let minimum { o["minimum"] = .int(minimum) }
            if let maximum { o["maximum"] = .int(maximum) }
            return .object(o)
        case .number(let description, let minimum, let maximum):
            var o: JSONObject = ["type": "number", "description": .string(description)]
            if let minimum { o["minimum"] = .double(minimum) }
            if let maximum { o["maximum"] = .double(maximum) }
            return .object(o)
        case .boolean(let description):
            return ["type": "boolean", "description": .string(description)]
        case .bareObject:
            return ["type": "object"]
        }
    }

    /// The schema at a dotted path of property names (`[]` steps into array items, `*` into map values).
    public func child(_ name: String) -> Schema? {
        switch self {
        case .object(_, let properties, _): return properties[name]
        case .array(_, let items, _, _) where name == "[]": return items
        case .map(_, let values) where name == "*": return values
        default: return nil
        }
    }
}
