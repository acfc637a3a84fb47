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

    /// The metadata is kept decoded only; `object` gives back the object as it came, every
    /// metadata field included (those `ObjectMeta` does not model stay in the bytes).
    @Test(arguments: [
        [
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": [
                "name": "c", "namespace": "n", "uid": "u-1", "resourceVersion": "42", "generation": 3, "creationTimestamp": "2026-01-01T00:00:00Z",
                "labels": ["app.kubernetes.io/name": "c", "empty": ""], "annotations": ["vigil.dev/desired-hash": "abc"],
                "ownerReferences": [["apiVersion": "v1", "kind": "K", "name": "s", "uid": "u-0", "controller": true, "blockOwnerDeletion": true], ["apiVersion": "v1", "kind": "K", "name": "t", "uid": "u-2"]],
                "finalizers": ["f/g"], "selfLink": "/apis/apps/v1/x", "deletionGracePeriodSeconds": 30, "deletionTimestamp": "2026-01-02T00:00:00Z", "generateName": "c-",
            ],
            "spec": ["template": ["metadata": ["labels": ["a": "b"]]]], "status": ["numberReady": 0],
        ] as JSONValue,
        ["kind": "ConfigMap", "data": ["k": "v"]],
        ["metadata": ["selfLink": "/api/v1/x"], "data": [:]],
        ["metadata": ["name": "only"]],
    ])
    func unstructuredGivesBackTheObjectItWasMadeFrom(_ value: JSONValue) throws {
        let u = try Unstructured(object: value)
        #expect(u.object == value)
        #expect(try Unstructured(object: u.object) == u)
        // Setting the object sets the metadata with it.
        var v = u
        var changed = value
        if case .object(var top) = changed {
            var meta = top["metadata"]?.objectValue ?? [:]
            meta["labels"] = ["new": "label"]
            top["metadata"] = .object(meta)
            changed = .object(top)
        }
        v.object = changed
        #expect(v.metadata.labels == ["new": "label"])
        #expect(v.object == changed)
    }
}
