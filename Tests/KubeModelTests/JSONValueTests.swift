import Foundation
import KubeModel
import Testing

@Suite struct JSONValueTests {
    @Test(arguments: [
        ("an object is a subset of a superset", ["a": 1] as JSONValue, ["a": 1, "b": 2] as JSONValue, true),
        ("a changed value is not a subset", ["a": 1], ["a": 2], false),
        ("a missing key is not a subset", ["a": 1, "c": 3], ["a": 1], false),
        ("arrays must match in length", ["l": [1, 2]], ["l": [1, 2, 3]], false),
        ("nested objects in arrays compare as subsets", ["l": [["x": 1]]], ["l": [["x": 1, "y": 2]]], true),
        ("an integer matches an equal double", ["n": 2], ["n": 2.0], true),
        ("a null field matches an absent one", ["n": .null], [:], true),
        // A Secret applied with `data: {}` is stored without `data`: no re-apply on every reconcile.
        ("an empty map matches an absent one", ["data": [:]], ["type": "Opaque"], true),
        ("an empty list matches an absent one", ["l": []], [:], true),
        ("a non-empty map does not match an absent one", ["data": ["k": "v"]], [:], false),
    ] as [(String, JSONValue, JSONValue, Bool)])
    func subset(_ name: String, _ a: JSONValue, _ b: JSONValue, _ expected: Bool) {
        #expect(a.isSubset(of: b) == expected, "\(name)")
    }

    @Test func decodesEveryJSONType() throws {
        let text = #"{"a":[1,2.5,"s",true,null,{"b":{}}]}"#
        let v = try JSONCoding.decode(JSONValue.self, from: Array(text.utf8))
        #expect(v == ["a": [1, 2.5, "s", true, .null, ["b": [:]]]])
        #expect(String(decoding: try JSONCoding.encode(v), as: UTF8.self) == text)
    }

    @Test func unstructuredDropsManagedFieldsAndDecodesMetadata() throws {
        let u = try Unstructured(object: ["metadata": ["name": "x", "namespace": "n", "managedFields": [["manager": "kubectl"]]], "data": ["k": "v"]])
        #expect(u.metadata.key == "n/x")
        #expect(u.object["metadata"]?["managedFields"] == nil)
        #expect(u.object["data"] == ["k": "v"])
    }
}

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

@Suite struct ResourcePathTests {
    @Test func pathsForCoreAndGroupedKinds() {
        #expect(ConfigMap.resource.path(namespace: "ns") == "/api/v1/namespaces/ns/configmaps")
        #expect(ConfigMap.resource.path(namespace: nil) == "/api/v1/configmaps")
        #expect(
            ObservabilityStack.resource.path(namespace: "a", name: "b", subresource: "status")
                == "/apis/observability.vigil.dev/v1alpha1/namespaces/a/observabilitystacks/b/status")
        #expect(Namespace.resource.path(namespace: "ignored", name: "x") == "/api/v1/namespaces/x")
    }

    @Test func secretDescriptionNeverShowsData() {
        let s = Secret(metadata: ObjectMeta(name: "s", namespace: "n"), data: ["password": "c2VjcmV0"])
        #expect(!"\(s)".contains("c2VjcmV0"))
        #expect("\(s)".contains("password"))
    }
}

@Suite struct JSONSerializationTests {
    /// The direct writer gives JSONEncoder's bytes, so hashes and outputs are unchanged.
    @Test(arguments: [
        ["b": 1, "a": [true, false, .null], "c": ["z": "x/y", "A": "q\"\\\n\t\u{01}é"]] as JSONValue,
        ["n": 500.0, "m": 0.02, "l": 1e-5, "k": -3, "big": 1e20, "Zeta": "a", "alpha": "b", "a10": 1, "a9": 2],
        [:], [], "plain", 12,
    ])
    func matchesJSONEncoder(_ value: JSONValue) throws {
        let encoded = try JSONCoding.encode(value)
        #expect(value.serialized() == encoded, "\(String(decoding: value.serialized(), as: UTF8.self)) vs \(String(decoding: encoded, as: UTF8.self))")
    }
}

@Suite struct JSONParserTests {
    /// The parser reads what JSONSerialization reads, to the same values.
    @Test(arguments: [
        #"{"a":[1,2.5,"s",true,false,null,{"b":{}}],"c":-3,"d":1e3,"e":"q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","f":[]}"#,
        " [ 1 , { \"x\" : \"y\" } ] \n", #""plain""#, "12", "-0.5", "null", #"{"nested":{"deep":[[[]]]}}"#,
    ])
    func parsesLikeFoundation(_ text: String) throws {
        let parsed = try JSONValue.parse(Array(text.utf8))
        let foundation = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        func same(_ v: JSONValue, _ f: Any) -> Bool {
            switch v {
            case .null: return f is NSNull
            case .bool(let b): return (f as? Bool) == b
            case .int(let i): return (f as? NSNumber)?.doubleValue == Double(i)
            case .double(let d): return (f as? NSNumber)?.doubleValue == d
            case .string(let s): return f as? String == s
            case .array(let a): return (f as? [Any]).map { $0.count == a.count && zip(a, $0).allSatisfy { same($0, $1) } } ?? false
            case .object(let o):
                guard let m = f as? [String: Any], m.count == o.count else { return false }
                return o.allSatisfy { k, v in m[k].map { same(v, $0) } ?? false }
            }
        }
        #expect(same(parsed, foundation), "\(parsed)")
        // And writing it back gives JSON that parses to the same value (1e3 comes back as 1000).
        let again = try JSONValue.parse(parsed.serialized())
        #expect(again.isSubset(of: parsed) && parsed.isSubset(of: again))
    }

    @Test(arguments: ["", "{", "[1,]", #"{"a" 1}"#, "tru", #""unterminated"#, "1 2", #""\x""#, #"{"a":1,}"#])
    func refusesInvalidJSON(_ text: String) {
        #expect(throws: (any Error).self) { try JSONValue.parse(Array(text.utf8)) }
    }

    @Test func unstructuredKeepsBytesAndParsesOnRead() throws {
        var u = try Unstructured(object: ["metadata": ["name": "x", "namespace": "n", "resourceVersion": "7"], "data": ["k": "v"]])
        #expect(u.object["data"]?["k"] == "v" && u.metadata.resourceVersion == "7")
        u.object["data"] = ["k": "w"]
        #expect(u.object["data"]?["k"] == "w")
        let list = try JSONCoding.decode(KubeList<Unstructured>.self, from: Array(#"{"kind":"ConfigMapList","metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"a"}}]}"#.utf8))
        #expect(list.metadata.resourceVersion == "9" && list.items.first?.metadata.name == "a" && list.kind == "ConfigMapList")
    }
}
