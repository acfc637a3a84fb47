import KubeModel

/// A collector config ConfigMap (agents' and gateway's).
extension Workloads {
    static func configMap(name: String, config: String) -> JSONValue {
        ["apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(name), "data": ["config.yaml": .string(config)]]
    }
}
