import KubeModel

/// How big a batch may grow, so that no hop refuses it. The batch processor counts items
/// (spans, data points, log records), while the next hop limits bytes: a gRPC message of 4
/// MiB, gRPC's default, which Tempo's distributor and the collector's own OTLP receiver keep
/// unless configured otherwise. So Vigil plans for an item of at most `itemBytes` encoded,
/// with its resource and scope (each item may come from a different pod), and keeps the
/// largest batch within `headroom` of the smallest limit it can meet; the collectors' own
/// OTLP receivers (agents from apps, the gateway from agents) are set to accept
/// `receiverLimitMiB`, well above what a batch reaches.
public enum Batching {
    /// The largest item Vigil plans for, encoded with its resource and scope.
    public static let itemBytes = 4096
    /// What a backend's OTLP gRPC endpoint accepts in one message (gRPC's default).
    public static let backendLimitBytes = 4 * 1024 * 1024
    /// The share of a limit a batch may fill: the rest is protobuf framing and headers.
    public static let headroom = 0.75
    /// `max_recv_msg_size_mib` of the collectors' OTLP gRPC receivers.
    public static let receiverLimitMiB = 16

    /// The largest encoded batch of `items`.
    public static func largestBatchBytes(items: Int) -> Int { items * itemBytes }

    /// The most items a batch may hold to fit `limitBytes`.
    public static func maxItems(fitting limitBytes: Int) -> Int { Int(Double(limitBytes) * headroom) / itemBytes }

    /// `send_batch_max_size`: what fits the smallest next hop, the backends (768 items).
    public static var sendBatchMaxSize: Int { maxItems(fitting: min(backendLimitBytes, receiverLimitMiB * 1024 * 1024)) }
    /// `send_batch_size`: a batch is sent once it holds this many (half the maximum).
    public static var sendBatchSize: Int { sendBatchMaxSize / 2 }

    /// The batch processor's config.
    public static func processor(_ eff: ResolvedSpec) -> JSONValue {
        ["send_batch_size": .int(eff.batchSize), "send_batch_max_size": .int(eff.batchMaxSize), "timeout": .string(ResolvedSpec.goDuration(eff.batchTimeoutSeconds))]
    }

    /// The sending queue's size in batches such that a queue full of the largest batches
    /// stays within `budgetMiB` (on disk, or in memory), at least 10.
    public static func queueSize(budgetMiB: Int, maxBatchItems: Int) -> Int {
        max(10, budgetMiB * 1024 * 1024 / max(1, largestBatchBytes(items: maxBatchItems)))
    }

    /// The most a full queue of `size` batches of at most `maxBatchItems` items holds, in MiB.
    public static func queueMiB(size: Int, maxBatchItems: Int) -> Int {
        (size * largestBatchBytes(items: maxBatchItems) + 1024 * 1024 - 1) / (1024 * 1024)
    }
}
