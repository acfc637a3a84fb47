import KubeModel

/// Whether a stack may be stored, decided by exactly what the reconciler's gate decides
/// (`StackValidator.resolve`, then `ConfigCheck`), with advice that does not refuse it. The
/// admission webhook, `vigil check` and `vigil render` all ask here.
public struct StackVerdict: Sendable, Hashable {
    /// Every field error, with its path.
    public var errors: [FieldError]
    /// What the collector would refuse in the rendered config (only once the spec resolves).
    public var configProblems: [String]
    /// Advice: the stack is admitted, but its author should know.
    public var warnings: [String]

    public var allowed: Bool { errors.isEmpty && configProblems.isEmpty }

    /// Every refusal, one per line, as the status condition words them.
    public var problems: [String] { errors.map(\.description) + configProblems.map { "rendered collector config: \($0)" } }
}

public enum StackAdmission {
    public static func verdict(_ stack: ObservabilityStack, policy: OperatorPolicy = .standard) -> StackVerdict {
        switch StackValidator.resolve(stack, policy: policy) {
        case .failure(let invalid):
            return StackVerdict(errors: invalid.errors, configProblems: [], warnings: [])
        case .success(let ctx):
            return StackVerdict(errors: [], configProblems: ConfigCheck.check(ctx), warnings: warnings(ctx))
        }
    }

    /// Advice for an admitted stack.
    public static func warnings(_ ctx: StackContext) -> [String] {
        var out: [String] = []
        let external = NetworkPolicyRender.externalHosts(ctx)
        if ctx.spec.networkPolicy, !external.isEmpty, (ctx.raw.networkPolicy?.egressTo ?? []).isEmpty {
            out.append(
                "spec.exporters: egress to \(external.joined(separator: ", ")) is open by port only, to every address (a NetworkPolicy cannot name a host); set spec.networkPolicy.egressTo"
            )
        }
        for c in ctx.spec.clients where c.namespace != ctx.namespace {
            out.append(
                "spec.ingest.basicAuth.clients: \(c.name)'s Secret goes to namespace \(c.namespace) once it accepts this stack (\(Annotations.acceptStacks)=\(ctx.key))"
            )
        }
        if ctx.spec.gatewayReplicas > 0, ctx.raw.exporters?.tempo == nil {
            out.append("spec.collector.gateway.replicas: no gateway runs without spec.exporters.tempo (it samples traces on their way to Tempo)")
        }
        return out
    }

    /// The response to an `admission.k8s.io/v1` AdmissionReview for an ObservabilityStack.
    public static func review(_ request: JSONValue, policy: OperatorPolicy = .standard) -> JSONValue {
        let req = request["request"]
        let uid = req?["uid"]?.stringValue ?? ""
        func response(allowed: Bool, message: String? = nil, warnings: [String] = []) -> JSONValue {
            var r: [String: JSONValue] = ["uid": .string(uid), "allowed": .bool(allowed)]
            if let message { r["status"] = ["code": 422, "reason": "Invalid", "message": .string(message)] }
            // The API server may cut a warning past 256 characters: each is kept shorter.
            if !warnings.isEmpty { r["warnings"] = .array(warnings.prefix(10).map { JSONValue.string(String($0.prefix(250))) }) }
            return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": .object(r)]
        }
        guard request["kind"]?.stringValue == "AdmissionReview", let req else {
            return response(allowed: false, message: "not an admission.k8s.io/v1 AdmissionReview")
        }
        // Only what is stored is judged: a DELETE or a status update passes.
        let operation = req["operation"]?.stringValue ?? ""
        guard operation == "CREATE" || operation == "UPDATE", req["subResource"]?.stringValue == nil, let object = req["object"] else {
            return response(allowed: true)
        }
        var stack: ObservabilityStack
        do {
            stack = try JSONCoding.decode(ObservabilityStack.self, from: JSONCoding.encode(object))
        } catch {
            return response(allowed: false, message: "not a valid ObservabilityStack: \(error)")
        }
        if stack.metadata.namespace == nil { stack.metadata.namespace = req["namespace"]?.stringValue }
        let v = verdict(stack, policy: policy)
        guard v.allowed else {
            let problems = v.problems
            return response(allowed: false, message: "ObservabilityStack \(stack.metadata.name ?? "") is invalid (\(problems.count) problem\(problems.count == 1 ? "" : "s")): " + problems.joined(separator: "; "))
        }
        return response(allowed: true, warnings: v.warnings)
    }
}
