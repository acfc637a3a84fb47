import Foundation
import KubeModel
import Render
import Testing

/// No batch outgrows the next hop: from the sizes each example's rendered configs carry, the
/// largest encoded batch fits what the hop after it accepts.
@Suite struct BatchingTests {
    static func example(_ env: String) throws -> ObservabilityStack {
        let text = try String(contentsOf: repoRoot.appendingPathComponent("examples/\(env).yaml"), encoding: .utf8)
        return try #require(try StackFile.parse(text).first)
    }

    /// The gRPC receive limit an OTLP receiver config sets, in bytes (gRPC's 4 MiB if none).
    static func receiveLimit(_ config: JSONValue) -> Int {
        (config["receivers"]?["otlp"]?["protocols"]?["grpc"]?["max_recv_msg_size_mib"]?.intValue ?? 4) * 1024 * 1024
    }

    @Test(arguments: ["development", "staging", "production"])
    func theLargestBatchFitsTheNextHop(_ env: String) throws {
        var stack = try Self.example(env)
        // With and without a gateway in between.
        for replicas in [0, 2] {
            stack.spec.collector = CollectorSpec(gateway: GatewaySpec(replicas: replicas))
            let ctx = StackContext(stack)
            let agent = CollectorConfig.agent(ctx)
            let gateway = CollectorConfig.gateway(ctx)
            #expect((gateway != nil) == (replicas > 0))
            let agentBatch = try #require(agent["processors"]?["batch"]?["send_batch_max_size"]?.intValue)
            // Agents send to the gateway (its receiver's limit) or to the backends (4 MiB).
            let agentHop = gateway.map(Self.receiveLimit) ?? Batching.backendLimitBytes
            #expect(Batching.largestBatchBytes(items: agentBatch) <= agentHop, "\(env), gateway \(replicas): \(agentBatch) items")
            if let gateway {
                let gatewayBatch = try #require(gateway["processors"]?["batch"]?["send_batch_max_size"]?.intValue)
                #expect(Batching.largestBatchBytes(items: gatewayBatch) <= Batching.backendLimitBytes)
            }
            // Batches fill before the maximum, and the apps' own batches fit the agents.
            #expect(agent["processors"]?["batch"]?["send_batch_size"]?.intValue ?? .max <= agentBatch)
            #expect(Batching.largestBatchBytes(items: 512) <= Self.receiveLimit(agent))
        }
    }

    @Test func theArithmeticRefusesWhatWouldNotFit() {
        // The sizes Vigil used before: 10,000 items could reach 40 MiB.
        #expect(Batching.largestBatchBytes(items: 10_000) > Batching.backendLimitBytes)
        #expect(Batching.maxItems(fitting: 4 * 1024 * 1024) == 768)
        #expect(Batching.largestBatchBytes(items: Batching.maxItems(fitting: 4 * 1024 * 1024) + 257) > 4 * 1024 * 1024)
        #expect(Batching.sendBatchMaxSize == 768 && Batching.sendBatchSize == 384)
    }

    /// A full queue of the largest batches stays within its profile's budget, on disk or
    /// in memory, and never below ten batches.
    @Test(arguments: Environment.allCases)
    func aFullQueueStaysWithinItsProfilesBudget(_ env: Environment) {
        let profile = EnvironmentProfile.of(env)
        let eff = ResolvedSpec(StackSpec(environment: env))
        #expect(eff.queueSize == Batching.queueSize(budgetMiB: profile.queueBudgetMiB, maxBatchItems: eff.batchMaxSize))
        #expect(Batching.queueMiB(size: eff.queueSize, maxBatchItems: eff.batchMaxSize) <= profile.queueBudgetMiB)
        #expect(Batching.queueMiB(size: eff.queueSize + 1, maxBatchItems: eff.batchMaxSize) > profile.queueBudgetMiB)
        #expect(eff.persistentQueues == (env != .development))
        #expect(Batching.queueSize(budgetMiB: 1, maxBatchItems: 768) == 10)
    }

    /// Staging has production's topology: a gateway wherever traces go to Tempo.
    @Test(arguments: Environment.allCases)
    func stagingAndProductionSampleBehindAGateway(_ env: Environment) {
        let s = ObservabilityStack(
            metadata: ObjectMeta(name: "s", namespace: "n"), spec: StackSpec(environment: env, exporters: ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo:4317"))))
        let ctx = StackContext(s)
        #expect(ctx.hasGateway == (env != .development))
        // Tail sampling runs where whole traces arrive: the gateway if there is one.
        let agentSamples = CollectorConfig.agent(ctx)["processors"]?["tail_sampling"] != nil
        #expect(agentSamples == !ctx.hasGateway)
        #expect((CollectorConfig.gateway(ctx)?["processors"]?["tail_sampling"] != nil) == ctx.hasGateway)
    }
}
