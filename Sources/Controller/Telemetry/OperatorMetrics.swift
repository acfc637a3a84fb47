import Foundation
import KubeClient
import KubeModel
import Prometheus
import Synchronization

/// Vigil's own metrics, in Prometheus text format, under controller-runtime's names so that
/// existing dashboards work, plus gauges for each stack's certificate and credentials.
public final class OperatorMetrics: RequestMetrics, Sendable {
    public let registry = PrometheusCollectorRegistry()
    static let controller = "observabilitystack"
    static let queueName = "observabilitystack"
    static let reconcileBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

    let reconcileTime: ValueHistogram
    let reconcileErrors: Counter
    let queueDuration: ValueHistogram
    let depth: Gauge
    let adds: Counter
    let retries: Counter
    /// What the queue had counted at the last scrape (its counters are cumulative).
    let seen = Mutex((adds: 0, retries: 0))
    /// Per-stack gauges, to remove when the stack goes.
    let stackGauges = Mutex<[String: [Gauge]]>([:])

    static func d(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    public init() {
        reconcileTime = registry.makeValueHistogram(
            descriptor: Self.d("controller_runtime_reconcile_time_seconds", "Length of time per reconciliation per controller"), labels: [("controller", Self.controller)], buckets: Self.reconcileBuckets
        )
        reconcileErrors = registry.makeCounter(
            descriptor: Self.d("controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller"), labels: [("controller", Self.controller)]
        )
        queueDuration = registry.makeValueHistogram(
            descriptor: Self.d("workqueue_queue_duration_seconds", "How long in seconds an item stays in workqueue before being requested"), labels: [("name", Self.queueName)], buckets: Self.reconcileBuckets
        )
        depth = registry.makeGauge(descriptor: Self.d("workqueue_depth", "Current depth of workqueue"), labels: [("name", Self.queueName)])
        adds = registry.makeCounter(descriptor: Self.d("workqueue_adds_total", "Total number of adds handled by workqueue"), labels: [("name", Self.queueName)])
        retries = registry.makeCounter(descriptor: Self.d("workqueue_retries_total", "Total number of retries handled by workqueue"), labels: [("name", Self.queueName)])
        // Every result series exists from the start, at zero.
        for r in ["success", "error", "requeue", "requeue_after"] { _ = reconcileCounter(r) }
    }

    func reconcileCounter(_ result: String) -> Counter {
        registry.makeCounter(
            descriptor: Self.d("controller_runtime_reconcile_total", "Total number of reconciliations per controller"), labels: [("controller", Self.controller), ("result", result)]
        )
    }

    /// One reconcile's outcome: `success`, `error`, `requeue` or `requeue_after`.
    public func recordReconcile(result: String, seconds: Double) {
        reconcileCounter(result).increment()
        if result == "error" { reconcileErrors.increment() }
        reconcileTime.record(seconds)
    }

    public func recordQueueWait(_ seconds: Double) { queueDuration.record(seconds) }

    public func recordRequest(method: String, code: Int) {
        registry.makeCounter(
            descriptor: Self.d("rest_client_requests_total", "Number of HTTP requests, partitioned by status code and method"), labels: [("code", code == 0 ? "<error>" : String(code)), ("method", method)]
        ).increment()
    }

    /// Brings the queue's gauges and counters up to date (at scrape time).
    public func observe(queue: WorkQueue) {
        depth.set(Double(queue.depth))
        let (a, r) = (queue.totalAdds, queue.totalRetries)
        let delta = seen.withLock { s -> (Int, Int) in
            defer { s = (a, r) }
            return (max(0, a - s.adds), max(0, r - s.retries))
        }
        if delta.0 > 0 { adds.increment(by: Int64(delta.0)) }
        if delta.1 > 0 { retries.increment(by: Int64(delta.1)) }
    }

    static func timestamp(_ s: String?) -> Double? {
        s.flatMap { try? Date($0, strategy: .iso8601) }?.timeIntervalSince1970
    }

    /// The certificate and credential gauges of one stack, from its status; a stack
    /// without them (or gone, with nil) has none.
    public func observe(stackKey key: String, status: StackStatus?) {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return }
        let labels = [("namespace", parts[0]), ("name", parts[1])]
        var gauges: [Gauge] = []
        func gauge(_ name: String, _ help: String, _ value: Double?, extra: [(String, String)] = []) {
            guard let value else { return }
            let g = registry.makeGauge(descriptor: Self.d(name, help), labels: labels + extra)
            g.set(value)
            gauges.append(g)
        }
        if let c = status?.certificate {
            gauge("vigil_certificate_expiration_timestamp_seconds", "The date after which the stack's serving certificate expires, in seconds since the epoch", Self.timestamp(c.notAfter))
            gauge("vigil_certificate_renewal_timestamp_seconds", "The date Vigil renews the stack's serving certificate, in seconds since the epoch", Self.timestamp(c.renewalTime))
        }
        if let c = status?.credentials {
            gauge("vigil_credentials_generation", "The BasicAuth credential generation clients hold", c.generation.map(Double.init))
            gauge("vigil_credentials_rotated_timestamp_seconds", "When the stack's BasicAuth credentials were last rotated, in seconds since the epoch", Self.timestamp(c.rotatedAt))
            gauge("vigil_credentials_next_rotation_timestamp_seconds", "When the stack's BasicAuth credentials rotate next, in seconds since the epoch", Self.timestamp(c.nextRotation))
            for phase in ["Stable", "RollingOut", "Overlap"] {
                gauge("vigil_credentials_rotation_phase", "1 for the stack's current credential rotation phase", c.phase == phase ? 1 : 0, extra: [("phase", phase)])
            }
        }
        let old = stackGauges.withLock { g -> [Gauge] in
            defer { g[key] = gauges.isEmpty ? nil : gauges }
            return g[key] ?? []
        }
        for g in old where !gauges.contains(where: { $0 === g }) { registry.unregisterGauge(g) }
    }

    /// client-go's leader gauge: 1 while this process holds the lease.
    public func recordLeadership(name: String, leading: Bool) {
        registry.makeGauge(descriptor: Self.d("leader_election_master_status", "Whether this process leads (1) or stands by (0)"), labels: [("name", name)])
            .set(Double(leading ? 1 : 0))
    }

    /// The exposition text.
    public func render() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
