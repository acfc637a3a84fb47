import KubeModel

/// The body of a Secret Vigil writes: one shape for all of them (the CA, TLS, credentials,
/// htpasswd, client-certificate, client and Alertmanager Secrets).
enum SecretBody {
    /// `data` values are plain text; they are base64-encoded here. `annotations` nil leaves
    /// the key out (an empty map is written as one).
    static func make(name: String, type: String = "Opaque", annotations: [String: String]? = nil, data: [String: String]) -> JSONValue {
        var meta: JSONObject = ["name": .string(name)]
        if let annotations { meta["annotations"] = .object(annotations.jsonObject) }
        return ["apiVersion": "v1", "kind": "Secret", "type": .string(type), "metadata": .object(meta), "data": .object(JSONObject(data.mapValues(JSONValue.secretData)))]
    }
}
