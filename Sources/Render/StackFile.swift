import KubeModel
import Yams

/// Reads stack files (`vigil render`, examples) and renders them offline.
public enum StackFile {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Every ObservabilityStack document in a YAML stream.
    public static func parse(_ text: String) throws -> [ObservabilityStack] {
        var stacks: [ObservabilityStack] = []
        for (i, doc) in try Yams.compose_all(yaml: text).enumerated() {
            let json = try jsonValue(fromYAML: doc)
            guard json["kind"]?.stringValue == ObservabilityStack.resource.kind else { continue }
            do {
                var s = try JSONCoding.decode(ObservabilityStack.self, from: JSONCoding.encode(json))
                if s.metadata.namespace == nil { s.metadata.namespace = "default" }
                stacks.append(s)
            } catch {
                throw Problem(description: "document \(i + 1) is not a valid ObservabilityStack: \(error)")
            }
        }
        return stacks
    }

    /// All desired objects of every stack in `text`, as one multi-document YAML.
    public static func render(_ text: String) throws -> String {
        var docs: [JSONValue] = []
        for stack in try parse(text) {
            let errors = StackValidator.validate(stack)
            guard errors.isEmpty else {
                throw Problem(description: "stack \(stack.metadata.name ?? "?") is invalid: " + errors.map(\.description).joined(separator: "; "))
            }
            docs += try DesiredState.render(stack).objects.map(\.body)
        }
        return try YAMLText.documents(docs)
    }

    /// Converts a YAML node to JSON, resolving scalar tags as YAML 1.1 does (Kubernetes' rules).
    public static func jsonValue(fromYAML node: Node) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style == .plain {
                if node.null != nil { return .null }
                if let b = node.bool { return .bool(b) }
                if let i = node.int { return .int(i) }
                if let d = node.float { return .double(d) }
            }
            return .string(scalar.string)
        case .sequence(let seq):
            return .array(try seq.map(jsonValue(fromYAML:)))
        case .mapping(let map):
            var o: [String: JSONValue] = [:]
            for (k, v) in map {
                guard let key = k.string else { throw Problem(description: "a mapping key is not a string") }
                o[key] = try jsonValue(fromYAML: v)
            }
            return .object(o)
        case .alias:
            throw Problem(description: "YAML aliases are not supported")
        }
    }
}
