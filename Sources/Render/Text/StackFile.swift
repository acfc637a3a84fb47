import KubeModel
import Yams

/// Reads stack files (`vigil render`, examples) and renders them offline.
public enum StackFile {
    public struct Problem: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Each ObservabilityStack document of a YAML stream, numbered from 1 as in the stream,
    /// decoded or with why it does not decode: one bad document does not hide the others.
    public static func documents(_ text: String) throws -> [(number: Int, stack: Result<ObservabilityStack, Problem>)] {
        var out: [(number: Int, stack: Result<ObservabilityStack, Problem>)] = []
        for (i, doc) in try Yams.compose_all(yaml: text).enumerated() {
            let json = try jsonValue(fromYAML: doc)
            guard json["kind"]?.stringValue == ObservabilityStack.resource.kind else { continue }
            do {
                var s = try JSONCoding.decode(ObservabilityStack.self, from: JSONCoding.encode(json))
                if s.metadata.namespace == nil { s.metadata.namespace = "default" }
                out.append((i + 1, .success(s)))
            } catch {
                out.append((i + 1, .failure(Problem(description: "not a valid ObservabilityStack: \(error)"))))
            }
        }
        return out
    }

    /// Every ObservabilityStack document in a YAML stream; the first that does not decode
    /// is an error naming it.
    public static func parse(_ text: String) throws -> [ObservabilityStack] {
        try documents(text).map { d in
            switch d.stack {
            case .success(let s): return s
            case .failure(let p): throw Problem(description: "document \(d.number) is \(p)")
            }
        }
    }

    /// One rendered object: a file name and its YAML.
    public struct RenderedFile: Sendable, Hashable {
        public var name: String
        public var yaml: String
    }

    /// Every desired object of every stack in `text`, one YAML document each, preceded by
    /// a comment naming the Secrets that only the operator can make.
    public static func renderFiles(_ text: String, policy: OperatorPolicy = .standard) throws -> [RenderedFile] {
        var files: [RenderedFile] = []
        for stack in try parse(text) {
            // What the admission webhook and `vigil check` decide: nothing invalid renders.
            let verdict = StackAdmission.verdict(stack, policy: policy)
            guard verdict.allowed, case .success(let ctx) = StackValidator.resolve(stack, policy: policy) else {
                throw Problem(description: "stack \(stack.metadata.namespace ?? "default")/\(stack.metadata.name ?? "?") is invalid: " + verdict.problems.joined(separator: "; "))
            }
            let ns = stack.metadata.namespace ?? "default"
            var header = "# ObservabilityStack \(ns)/\(stack.metadata.name ?? "")\n"
            let secrets = DesiredState.operatorSecrets(ctx)
            if !secrets.isEmpty {
                header += "# Certificates and credentials cannot be made offline. The operator creates these\n"
                header += "# Secrets, which the objects below reference; they are not rendered here:\n"
                for s in secrets {
                    let where_ = s.name.contains("/") ? s.name : "\(ns)/\(s.name)"
                    header += "#   Secret \(where_): \(s.what)\n"
                }
                header += "# The pod templates' \(Annotations.configHash) also covers these Secrets in the\n"
                header += "# cluster, so it differs there from the value below.\n"
            }
            // Offline, a current cluster is assumed for built-in kinds (policy/v1), none of
            // the monitoring operators' CRDs.
            let inputs = RenderInputs(monitoringKinds: [GatewayDisruptionBudget.discoveryKey(version: "v1")])
            for (i, o) in try DesiredState.render(ctx, inputs: inputs).objects.enumerated() {
                let doc = try YAMLText.document(o.body)
                files.append(RenderedFile(name: "\(ns)_\(o.resource.kind.lowercased())_\(o.name).yaml", yaml: (i == 0 ? header : "") + doc))
            }
        }
        return files
    }

    /// All desired objects of every stack in `text`, as one multi-document YAML.
    public static func render(_ text: String, policy: OperatorPolicy = .standard) throws -> String {
        try renderFiles(text, policy: policy).map { "---\n" + $0.yaml }.joined()
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
            var o: JSONObject = [:]
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

extension StackFile {
    /// The JSON of a single YAML document.
    public static func jsonValue(fromYAMLText text: String) throws -> JSONValue? {
        guard let node = try Yams.compose(yaml: text) else { return nil }
        return try jsonValue(fromYAML: node)
    }
}
