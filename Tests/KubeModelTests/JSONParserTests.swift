import Foundation
import KubeModel
import Testing

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

@Suite struct NodeAddressesTests {
    @Test func aNodeKeepsItsNameVersionAndIPAddressesOnly() throws {
        let json = #"{"type":"MODIFIED","object":{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","resourceVersion":"42","labels":{"a":"b"},"annotations":{"x":"y"}},"spec":{"taints":[{"key":"k","effect":"NoSchedule"}]},"status":{"addresses":[{"type":"InternalIP","address":"172.31.0.11"},{"type":"Hostname","address":"n1"},{"type":"ExternalIP","address":"203.0.113.4"}],"images":[{"names":["x"]}]}}}"#
        let event = try JSONCoding.decode(WatchEvent<NodeAddresses>.self, from: Array(json.utf8))
        #expect(event.object.metadata.name == "n1" && event.object.metadata.resourceVersion == "42")
        #expect(event.object.metadata.labels == nil && event.object.metadata.annotations == nil)
        #expect(event.object.addresses == ["172.31.0.11", "203.0.113.4"])
    }
}

/// ObjectMeta read from parsed JSON (the caches' path) equals what its Codable init reads,
/// and refuses what Codable refuses.
@Suite struct ObjectMetaFastDecodeTests {
    @Test(arguments: [
        #"{}"#,
        #"{"name":"a","namespace":"ns","uid":"u","resourceVersion":"12","generation":3,"creationTimestamp":"2026-01-01T00:00:00Z","labels":{"a":"b","c":""},"annotations":{"x":"y"},"finalizers":["f/g"],"managedFields":[{"manager":"m"}]}"#,
        #"{"generateName":"p-","deletionTimestamp":"2026-01-02T00:00:00Z","ownerReferences":[{"apiVersion":"v1","kind":"K","name":"n","uid":"u1","controller":true,"blockOwnerDeletion":false},{"apiVersion":"v1","kind":"K","name":"m","uid":"u2"}]}"#,
        #"{"labels":null,"annotations":{},"ownerReferences":[]}"#,
    ])
    func readsLikeCodable(_ text: String) throws {
        let codable = try JSONDecoder().decode(ObjectMeta.self, from: Data(text.utf8))
        let fast = try ObjectMeta(json: try JSONValue.parse(Array(text.utf8)))
        #expect(fast == codable)
        #expect(try JSONCoding.decode(ObjectMeta.self, from: Array(text.utf8)) == codable)
    }

    @Test(arguments: [
        #"{"name":3}"#, #"{"labels":{"a":1}}"#, #"{"generation":"3"}"#, #"{"ownerReferences":[{"kind":"K","name":"n","uid":"u"}]}"#,
        #"{"finalizers":"f"}"#, #"[]"#,
    ])
    func refusesWhatCodableRefuses(_ text: String) throws {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(ObjectMeta.self, from: Data(text.utf8)) }
        #expect(throws: (any Error).self) { try ObjectMeta(json: try JSONValue.parse(Array(text.utf8))) }
    }
}

/// An API error's Status is read without JSONDecoder, with the same result.
@Suite struct KubeStatusFastDecodeTests {
    @Test(arguments: [
        #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \"x\" not found","reason":"NotFound","details":{"name":"x","kind":"configmaps"},"code":404}"#,
        #"{"kind":"Status","code":409.0,"details":null}"#,
        #"{}"#,
    ])
    func readsLikeCodable(_ text: String) throws {
        let codable = try JSONDecoder().decode(KubeStatus.self, from: Data(text.utf8))
        let fast = try JSONCoding.decode(KubeStatus.self, from: Array(text.utf8))
        #expect(fast == codable)
        #expect(fast.kind == codable.kind && fast.code == codable.code && fast.message == codable.message)
    }

    @Test(arguments: [#"{"kind":3}"#, #"{"code":"404"}"#, #"{"code":4.5}"#, #"{"message":[]}"#, #"[]"#, #""text""#])
    func refusesWhatCodableRefuses(_ text: String) throws {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(KubeStatus.self, from: Data(text.utf8)) }
        #expect(throws: (any Error).self) { try JSONCoding.decode(KubeStatus.self, from: Array(text.utf8)) }
    }
}
