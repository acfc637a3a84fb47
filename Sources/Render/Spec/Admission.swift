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
    /// What only the cluster can say (a Secret the spec names is missing): the webhook asks
    /// the reconciler's gate; offline there is none.
    public var clusterProblems: [String] = []

    public init(errors: [FieldError], configProblems: [String], warnings: [String]) {
        self.errors = errors
        self.configProblems = configProblems
        self.warnings = warnings
    }

    public var allowed: Bool { errors.isEmpty && configProblems.isEmpty && clusterProblems.isEmpty }

    /// Every refusal, one per line, as the status condition words them.
    public var problems: [String] { errors.map(\.description) + configProblems.map { "rendered collector config: \($0)" } + clusterProblems }
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

    /// What an AdmissionReview asks: a stack to judge, or an answer already (a DELETE, a
    /// subresource, something that is no review or no stack).
    public enum Request: Sendable {
        case judge(uid: String, stack: ObservabilityStack)
        case answered(JSONValue)
    }

    public static func request(_ review: JSONValue) -> Request {
        let req = review["request"]
        let uid = req?["uid"]?.stringValue ?? ""
        guard review["kind"]?.stringValue == "AdmissionReview", let req else {
            return .answered(response(uid: uid, allowed: false, message: "not an admission.k8s.io/v1 AdmissionReview"))
        }
        // Only what is stored is judged: a DELETE or a status update passes.
        let operation = req["operation"]?.stringValue ?? ""
        guard operation == "CREATE" || operation == "UPDATE", req["subResource"]?.stringValue == nil, let object = req["object"] else {
            return .answered(response(uid: uid, allowed: true))
        }
        var stack: ObservabilityStack
        do {
            stack = try JSONCoding.decode(ObservabilityStack.self, from: JSONCoding.encode(object))
        } catch {
            return .answered(response(uid: uid, allowed: false, message: "not a valid ObservabilityStack: \(error)"))
        }
        if stack.metadata.namespace == nil { stack.metadata.namespace = req["namespace"]?.stringValue }
        return .judge(uid: uid, stack: stack)
    }

    /// The AdmissionReview answering `uid` with a verdict on `stack`.
    public static func response(uid: String, stack: ObservabilityStack, verdict v: StackVerdict) -> JSONValue {
        guard v.allowed else {
            let problems = v.problems
            return response(
                uid: uid, allowed: false,
                message: "ObservabilityStack \(stack.metadata.name ?? "") is invalid (\(problems.count) problem\(problems.count == 1 ? "" : "s")): " + problems.joined(separator: "; "))
        }
        return response(uid: uid, allowed: true, warnings: v.warnings)
    }

    static func response(uid: String, allowed: Bool, message: String? = nil, warnings: [String] = []) -> JSONValue {
        var r: JSONObject = ["uid": .string(uid), "allowed": .bool(allowed)]
        if let message { r["status"] = ["code": 422, "reason": "Invalid", "message": .string(message)] }
        // The API server may cut a warning past 256 characters: each is kept shorter.
        if !warnings.isEmpty { r["warnings"] = .array(warnings.prefix(10).map { JSONValue.string(String($0.prefix(250))) }) }
        return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": .object(r)]
    }

    /// The response to an `admission.k8s.io/v1` AdmissionReview for an ObservabilityStack,
    /// judged offline (no cluster).
    public static func review(_ review: JSONValue, policy: OperatorPolicy = .standard) -> JSONValue {
        switch request(review) {
        case .answered(let r): return r
        case .judge(let uid, let stack): return response(uid: uid, stack: stack, verdict: verdict(stack, policy: policy))
        }
    }
}
