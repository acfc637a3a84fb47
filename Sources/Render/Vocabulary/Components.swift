/// The signals a pipeline carries.
public enum Signal: String, Sendable, Hashable, CaseIterable, Comparable {
    case traces, metrics, logs

    public static func < (a: Signal, b: Signal) -> Bool { a.rawValue < b.rawValue }

    /// The signal of a pipeline id such as `traces` or `traces/spanmetrics`.
    public init?(pipeline: String) {
        let base = pipeline.split(separator: "/", maxSplits: 1).first.map(String.init) ?? pipeline
        self.init(rawValue: base)
    }
}

/// One component of the pinned collector distribution that Vigil's configs may use.
public struct ComponentInfo: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case receivers, processors, exporters, connectors, extensions
    }
    public var kind: Kind
    /// The type as configs name it (the part before `/`).
    public var type: String
    /// The Go module it comes from, as the distribution's manifest lists it.
    public var module: String
    /// Signals it accepts (receivers, processors, exporters).
    public var signals: Set<Signal>
    /// For connectors: the (exporter side, receiver side) signal pairs it joins.
    public var joins: Set<[Signal]>

    init(_ kind: Kind, _ type: String, _ module: String, _ signals: Set<Signal> = [], joins: Set<[Signal]> = []) {
        self.kind = kind
        self.type = type
        self.module = module
        self.signals = signals
        self.joins = joins
    }
}

/// The components of `otel/opentelemetry-collector-contrib:0.120.1` that Vigil uses, with
/// their exact type names at that version (from each module's metadata.yaml) and the
/// signals they support. A test checks every module against the distribution's manifest.
public enum Components {
    static let core = "go.opentelemetry.io/collector"
    static let contrib = "github.com/open-telemetry/opentelemetry-collector-contrib"
    static let all: Set<Signal> = Set(Signal.allCases)

    public static let pinned: [ComponentInfo] = [
        ComponentInfo(.receivers, "otlp", "\(core)/receiver/otlpreceiver", all),
        ComponentInfo(.receivers, "hostmetrics", "\(contrib)/receiver/hostmetricsreceiver", [.metrics]),
        ComponentInfo(.receivers, "filelog", "\(contrib)/receiver/filelogreceiver", [.logs]),
        ComponentInfo(.processors, "memory_limiter", "\(core)/processor/memorylimiterprocessor", all),
        ComponentInfo(.processors, "batch", "\(core)/processor/batchprocessor", all),
        ComponentInfo(.processors, "resource", "\(contrib)/processor/resourceprocessor", all),
        ComponentInfo(.processors, "resourcedetection", "\(contrib)/processor/resourcedetectionprocessor", all),
        ComponentInfo(.processors, "tail_sampling", "\(contrib)/processor/tailsamplingprocessor", [.traces]),
        ComponentInfo(.processors, "k8sattributes", "\(contrib)/processor/k8sattributesprocessor", all),
        ComponentInfo(.exporters, "otlp", "\(core)/exporter/otlpexporter", all),
        ComponentInfo(.exporters, "otlphttp", "\(core)/exporter/otlphttpexporter", all),
        ComponentInfo(.exporters, "prometheus", "\(contrib)/exporter/prometheusexporter", [.metrics]),
        ComponentInfo(.exporters, "prometheusremotewrite", "\(contrib)/exporter/prometheusremotewriteexporter", [.metrics]),
        ComponentInfo(.exporters, "loadbalancing", "\(contrib)/exporter/loadbalancingexporter", [.traces, .logs]),
        ComponentInfo(.exporters, "debug", "\(core)/exporter/debugexporter", all),
        ComponentInfo(.connectors, "spanmetrics", "\(contrib)/connector/spanmetricsconnector", joins: [[.traces, .metrics]]),
        ComponentInfo(.extensions, "health_check", "\(contrib)/extension/healthcheckextension"),
        ComponentInfo(.extensions, "basicauth", "\(contrib)/extension/basicauthextension"),
        ComponentInfo(.extensions, "bearertokenauth", "\(contrib)/extension/bearertokenauthextension"),
        ComponentInfo(.extensions, "file_storage", "\(contrib)/extension/storage/filestorage"),
    ]

    /// The filelog receiver's operator types at 0.120.1 (pkg/stanza/operator): parsers,
    /// transformers and the container parser. A config naming another type fails to start.
    public static let fileLogOperators: Set<String> = [
        "container", "json_parser", "regex_parser", "key_value_parser", "csv_parser", "syslog_parser", "trace_parser", "severity_parser",
        "time_parser", "scope_name_parser", "json_array_parser", "add", "copy", "move", "remove", "retain", "flatten", "filter", "router",
        "recombine", "unquote", "assign_keys", "noop",
    ]

    /// The component of `kind` whose type is the part of `id` before `/`.
    public static func lookup(_ kind: ComponentInfo.Kind, id: String) -> ComponentInfo? {
        let type = id.split(separator: "/", maxSplits: 1).first.map(String.init) ?? id
        return pinned.first { $0.kind == kind && $0.type == type }
    }
}
