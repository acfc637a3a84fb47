import KubeModel
import Render
import Testing

/// The operator decides what runs privileged: images, tolerations, node selectors.
@Suite struct OperatorPolicyTests {
    func stack(_ edit: (inout CollectorSpec) -> Void) -> ObservabilityStack {
        var c = CollectorSpec()
        edit(&c)
        return ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: StackSpec(environment: .development, collector: c))
    }

    @Test func aForeignImageIsRefusedAndAnAllowedOneRuns() throws {
        let foreign = stack { $0.image = "attacker/x:latest" }
        let errors = StackValidator.validate(foreign)
        #expect(errors.contains { $0.field == "spec.collector.image" && $0.message.contains("not an image the operator allows") }, "\(errors)")
        let policy = OperatorPolicy(allowedImages: ["registry.example/otelcol@sha256:abc"])
        let allowed = stack { $0.image = "registry.example/otelcol@sha256:abc" }
        let ctx = try StackValidator.resolve(allowed, policy: policy).get()
        #expect(ctx.spec.image == "registry.example/otelcol@sha256:abc")
        // Naming the default image is always fine.
        #expect(StackValidator.validate(stack { $0.image = defaultCollectorImage }).isEmpty)
    }

    @Test func theOperatorsDefaultImageRunsWhenTheStackNamesNone() throws {
        let policy = OperatorPolicy(defaultImage: "registry.example/otelcol@sha256:def")
        let ctx = try StackValidator.resolve(stack { _ in }, policy: policy).get()
        let ds = try #require(try DesiredState.render(ctx).objects.first { $0.resource.kind == "DaemonSet" })
        #expect(ds.body["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["image"] == "registry.example/otelcol@sha256:def")
    }

    @Test func tolerationsNeedTheOperatorsConsent() {
        let all = stack { $0.tolerations = [Toleration(operator: "Exists")] }
        #expect(StackValidator.validate(all).contains { $0.field == "spec.collector.tolerations[0]" && $0.message.contains("every taint") })
        #expect(!StackValidator.validate(all, policy: OperatorPolicy(allowedTolerationKeys: ["dedicated"])).isEmpty)
        #expect(StackValidator.validate(all, policy: OperatorPolicy(allowedTolerationKeys: ["*"])).isEmpty)
        let keyed = stack { $0.tolerations = [Toleration(key: "dedicated", operator: "Equal", value: "observability", effect: "NoSchedule")] }
        #expect(StackValidator.validate(keyed).contains { $0.field == "spec.collector.tolerations[0]" })
        #expect(StackValidator.validate(keyed, policy: OperatorPolicy(allowedTolerationKeys: ["dedicated"])).isEmpty)
    }

    @Test func nodeSelectorsAreLimitedToTheAllowedKeys() {
        #expect(StackValidator.validate(stack { $0.nodeSelector = ["kubernetes.io/os": "linux"] }).isEmpty)
        let pool = stack { $0.nodeSelector = ["node-role.kubernetes.io/control-plane": ""] }
        #expect(StackValidator.validate(pool).contains { $0.field == "spec.collector.nodeSelector.node-role.kubernetes.io/control-plane" })
        #expect(StackValidator.validate(pool, policy: OperatorPolicy(allowedNodeSelectorKeys: ["*"])).isEmpty)
    }

    @Test func theAgentsPriorityClassIsTheOperatorsAndOnlyTheAgentsGetIt() throws {
        let stack = ObservabilityStack(
            metadata: ObjectMeta(name: "obs", namespace: "team"),
            spec: StackSpec(environment: .production, collector: CollectorSpec(gateway: GatewaySpec(replicas: 1)), exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo:4317")))
        )
        func pods(_ policy: OperatorPolicy) throws -> JSONObject {
            let ctx = StackContext(stack, spec: ResolvedSpec(stack.spec, namespace: "team", policy: policy))
            var out: JSONObject = [:]
            for o in try DesiredState.render(ctx).objects where ["DaemonSet", "Deployment"].contains(o.resource.kind) {
                out[o.resource.kind] = o.body["spec"]?["template"]?["spec"]
            }
            return out
        }
        let with = try pods(OperatorPolicy(agentPriorityClass: "system-node-critical"))
        #expect(with["DaemonSet"]?["priorityClassName"] == "system-node-critical")
        #expect(with["Deployment"]?["priorityClassName"] == nil)
        #expect(try pods(.standard)["DaemonSet"]?["priorityClassName"] == nil)
    }
}
