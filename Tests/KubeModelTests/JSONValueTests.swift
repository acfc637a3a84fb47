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
