import KubeModel
import Render
import Testing

@Suite struct ProfileTests {
    @Test(arguments: [
        (Environment.development, 1024, 100.0, "Disabled", "None", false, false),
        (.staging, 1024, 25, "SelfSigned", "None", true, true),
        (.production, 2048, 10, "SelfSigned", "Optional", true, true),
    ])
    func environmentDefaults(_ env: Environment, _ limit: Int, _ pct: Double, _ tls: String, _ clientAuth: String, _ auth: Bool, _ np: Bool) {
        let e = ResolvedSpec(StackSpec(environment: env))
        #expect(e.memoryLimitMiB == limit)
        #expect(e.memorySpikeLimitMiB == limit / 5)
        #expect(e.samplingPercentage == pct)
        #expect(e.tlsMode.rawValue == tls)
        #expect(e.clientAuth.rawValue == clientAuth)
        #expect(e.basicAuth == auth)
        #expect(e.networkPolicy == np)
        #expect(e.tlsDuration == "90d")
        #expect(e.rotationInterval == "30d" && e.rotationOverlap == "24h")
    }

    @Test func explicitFieldsOverrideTheProfile() {
        let e = ResolvedSpec(
            StackSpec(
                environment: .production,
                collector: CollectorSpec(memoryLimiter: MemoryLimiterSpec(limitMiB: 512)),
                ingest: IngestSpec(tls: TLSSpec(mode: "Disabled"), basicAuth: BasicAuthSpec(enabled: false)),
                sampling: SamplingSpec(percentage: 50),
                networkPolicy: NetworkPolicySpec(enabled: false)
            )
        )
        #expect(e.memoryLimitMiB == 512 && e.memorySpikeLimitMiB == 102)
        #expect(e.samplingPercentage == 50)
        #expect(e.tlsMode.rawValue == "Disabled" && !e.basicAuth && !e.networkPolicy)
    }
}
