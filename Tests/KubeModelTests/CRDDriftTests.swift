import Foundation
import KubeModel
import Testing

/// The Swift model and the CRD schema must describe the same resource.
@Suite struct CRDDriftTests {
    /// Walks `value` along `schema`, reporting JSON paths that the schema does not know or
    /// whose type differs, and collecting the schema paths the value reached.
    func walk(_ value: JSONValue, _ schema: JSONValue, path: String, unknown: inout [String], reached: inout Set<String>) {
        reached.insert(path)
        // metadata is the API server's ObjectMeta, not part of this schema.
        if path == ".metadata" { return }
        let type = schema["type"]?.stringValue
        switch value {
        case .object(let o):
            if type != "object" { unknown.append("\(path): schema type \(type ?? "nil"), value is an object") }
            if let props = schema["properties"]?.objectValue {
                for (k, v) in o {
                    guard let s = props[k] else {
                        unknown.append("\(path).\(k)")
                        continue
                    }
                    walk(v, s, path: "\(path).\(k)", unknown: &unknown, reached: &reached)
                }
            } else if let values = schema["additionalProperties"] {
                for (_, v) in o { walk(v, values, path: "\(path).*", unknown: &unknown, reached: &reached) }
            } else if path != ".metadata" {
                unknown.append("\(path): object schema with neither properties nor additionalProperties")
            }
        case .array(let a):
            if type != "array" { unknown.append("\(path): schema type \(type ?? "nil"), value is an array") }
            for v in a { walk(v, schema["items"] ?? .null, path: "\(path)[]", unknown: &unknown, reached: &reached) }
        case .string: if type != "string" { unknown.append("\(path): schema type \(type ?? "nil"), value is a string") }
        case .int: if type != "integer" && type != "number" { unknown.append("\(path): schema type \(type ?? "nil"), value is an integer") }
        case .double: if type != "number" { unknown.append("\(path): schema type \(type ?? "nil"), value is a number") }
        case .bool: if type != "boolean" { unknown.append("\(path): schema type \(type ?? "nil"), value is a boolean") }
        case .null: unknown.append("\(path): null")
        }
    }

    /// Every path of a schema's leaves and objects.
    func schemaPaths(_ schema: JSONValue, path: String, into set: inout Set<String>) {
        set.insert(path)
        if let props = schema["properties"]?.objectValue {
            for (k, v) in props { schemaPaths(v, path: "\(path).\(k)", into: &set) }
        }
        if let items = schema["items"] { schemaPaths(items, path: "\(path)[]", into: &set) }
        if let values = schema["additionalProperties"] { schemaPaths(values, path: "\(path).*", into: &set) }
    }

    var rootSchema: JSONValue {
        StackCRD.definition["spec"]!["versions"]!.arrayValue![0]["schema"]!["openAPIV3Schema"]!
    }

    @Test func everyFieldOfTheModelIsInTheSchemaWithItsType() throws {
        let json = try JSONCoding.decode(JSONValue.self, from: JSONCoding.encode(Fixtures.maximal))
        var unknown: [String] = []
        var reached = Set<String>()
        walk(json, rootSchema, path: "", unknown: &unknown, reached: &reached)
        #expect(unknown == [], "model fields missing from the CRD schema")
    }

    @Test func everyFieldOfTheSchemaIsInTheModel() throws {
        let json = try JSONCoding.decode(JSONValue.self, from: JSONCoding.encode(Fixtures.maximal))
        var unknown: [String] = []
        var reached = Set<String>()
        walk(json, rootSchema, path: "", unknown: &unknown, reached: &reached)
        var all = Set<String>()
        schemaPaths(rootSchema, path: "", into: &all)
        let missed = all.subtracting(reached).filter { !$0.hasPrefix(".metadata") }.sorted()
        #expect(missed == [], "schema fields that the Swift model never sets (or the fixture misses)")
    }

    @Test func theMaximalFixtureRoundTrips() throws {
        let bytes = try JSONCoding.encode(Fixtures.maximal)
        let back = try JSONCoding.decode(ObservabilityStack.self, from: bytes)
        #expect(back == Fixtures.maximal)
    }

    @Test func nilFieldsAreOmittedNotNull() throws {
        let s = ObservabilityStack(metadata: ObjectMeta(name: "a"), spec: StackSpec(environment: .staging))
        let text = String(decoding: try JSONCoding.encode(s), as: UTF8.self)
        #expect(!text.contains("null"))
        #expect(text == #"{"apiVersion":"observability.vigil.dev/v1alpha1","kind":"ObservabilityStack","metadata":{"name":"a"},"spec":{"environment":"staging"}}"#)
    }

    @Test func enumsInTheSchemaMatchTheSwiftEnums() {
        let env = rootSchema["properties"]!["spec"]!["properties"]!["environment"]!["enum"]!
        #expect(env == .array(Environment.allCases.map { .string($0.rawValue) }))
    }
}
