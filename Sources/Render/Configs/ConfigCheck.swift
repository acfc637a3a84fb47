import KubeModel

/// What the collector would reject at start, checked before anything is applied (the
/// collector binary cannot run here): undefined or unused components, components in a
/// pipeline of a signal they do not carry, connectors that join the wrong signals,
/// `${env:...}` references the pod does not provide, files outside the pod's mounts, and
/// listening ports the Service does not expose.
public enum ConfigCheck {
    /// What the pod gives the collector.
    public struct Pod: Sendable, Hashable {
        public var env: Set<String>
        public var mountPaths: [String]
        /// Ports exposed by the Service in front of the pods; nil skips the check (gateway).
        public var servicePorts: Set<Int>?
        /// The mounts the collector may write to.
        public var writablePaths: [String]
        /// Whether the pod has a ServiceAccount token whose rights let k8sattributes list
        /// and watch pods in these namespaces.
        public var podReadNamespaces: Set<String>?
        public init(env: Set<String>, mountPaths: [String], servicePorts: Set<Int>?, writablePaths: [String] = [], podReadNamespaces: Set<String>? = nil) {
            self.env = env
            self.mountPaths = mountPaths
            self.servicePorts = servicePorts
            self.writablePaths = writablePaths
            self.podReadNamespaces = podReadNamespaces
        }
    }

    public static func check(_ config: JSONValue, pod: Pod) -> [String] {
        var problems: [String] = []
        let service = config["service"]
        let pipelines = service?["pipelines"]?.objectValue ?? [:]
        let defined: [ComponentInfo.Kind: JSONObject] = Dictionary(
            uniqueKeysWithValues: ComponentInfo.Kind.allCases.map { ($0, config[$0.rawValue]?.objectValue ?? [:]) }
        )

        // Every defined component is of a type the pinned distribution ships.
        for kind in ComponentInfo.Kind.allCases {
            for id in defined[kind]!.keys.sorted() where Components.lookup(kind, id: id) == nil {
                problems.append("\(kind.rawValue).\(id): no such \(kind.rawValue.dropLast()) in otelcol-contrib 0.120.1")
            }
        }

        // Pipelines name defined components, of the pipeline's signal.
        var used: [ComponentInfo.Kind: Set<String>] = [:]
        var connectorAsExporter: [String: Set<Signal>] = [:]
        var connectorAsReceiver: [String: Set<Signal>] = [:]
        for (pid, p) in pipelines.sorted(by: { $0.key < $1.key }) {
            guard let signal = Signal(pipeline: pid) else {
                problems.append("service.pipelines.\(pid): unknown signal (use traces, metrics or logs)")
                continue
            }
            for (role, kind) in [("receivers", ComponentInfo.Kind.receivers), ("processors", .processors), ("exporters", .exporters)] {
                let ids = p[role]?.arrayValue?.compactMap(\.stringValue) ?? []
                if ids.isEmpty && role != "processors" {
                    problems.append("service.pipelines.\(pid).\(role): a pipeline needs at least one")
                }
                for id in ids {
                    // A connector stands where a receiver or an exporter would.
                    if role != "processors", defined[.connectors]![id] != nil {
                        used[.connectors, default: []].insert(id)
                        if role == "exporters" { connectorAsExporter[id, default: []].insert(signal) } else { connectorAsReceiver[id, default: []].insert(signal) }
                        continue
                    }
                    guard defined[kind]![id] != nil else {
                        problems.append("service.pipelines.\(pid).\(role): \(id) is not defined under \(kind.rawValue)")
                        continue
                    }
                    used[kind, default: []].insert(id)
                    if let info = Components.lookup(kind, id: id), !info.signals.contains(signal) {
                        let carried = info.signals.sorted().map(\.rawValue).joined(separator: ", ")
                        problems.append("service.pipelines.\(pid).\(role): \(id) does not carry \(signal.rawValue) (only \(carried))")
                    }
                }
            }
        }
        for (id, from) in connectorAsExporter.sorted(by: { $0.key < $1.key }) {
            let to = connectorAsReceiver[id] ?? []
            if to.isEmpty { problems.append("connectors.\(id): used as an exporter but no pipeline receives from it") }
            guard let info = Components.lookup(.connectors, id: id) else { continue }
            for f in from.sorted() {
                for t in to.sorted() where !info.joins.contains([f, t]) {
                    problems.append("connectors.\(id): cannot join \(f.rawValue) to \(t.rawValue)")
                }
            }
        }
        for (id, _) in connectorAsReceiver where connectorAsExporter[id] == nil {
            problems.append("connectors.\(id): used as a receiver but no pipeline exports to it")
        }
        let enabledExtensions = Set(service?["extensions"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        for id in enabledExtensions.sorted() where defined[.extensions]![id] == nil {
            problems.append("service.extensions: \(id) is not defined under extensions")
        }
        used[.extensions] = enabledExtensions
        for kind in ComponentInfo.Kind.allCases {
            for id in defined[kind]!.keys.sorted() where !(used[kind]?.contains(id) ?? false) {
                problems.append("\(kind.rawValue).\(id): defined but not used")
            }
        }
        // Authenticators must be enabled extensions.
        walk(config, path: "") { path, key, value in
            if key == "authenticator", let id = value.stringValue, !enabledExtensions.contains(id) {
                problems.append("\(path): authenticator \(id) is not an enabled extension")
            }
        }

        // Environment references, and expansions Vigil did not write: only an extension's
        // credential and the node's name as a resource attribute may be a `${env:NAME}`
        // (Expansion.isOwnCollectorReference); any other `$` must be escaped (`$$`).
        walk(config, path: "") { path, key, value in
            guard let s = value.stringValue else { return }
            if Expansion.isOwnCollectorReference(path: path.split(separator: ".").map(String.init), value: s) {
                for name in envReferences(s) where !pod.env.contains(name) {
                    problems.append("\(path): ${env:\(name)} is not set in the pod")
                }
                return
            }
            for expansion in Expansion.unescaped(s) {
                problems.append("\(path): the collector would expand \"\(expansion)\"; Vigil writes no such reference there (a user value's $ must be escaped)")
            }
        }
        // Files.
        walk(config, path: "") { path, key, value in
            guard key.hasSuffix("_file") || key == "file", let file = value.stringValue else { return }
            if !pod.mountPaths.contains(where: { file.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) {
                problems.append("\(path): \(file) is not in a mounted volume")
            }
        }
        // What the receivers read of the node: host metrics' proc and sys under root_path,
        // pod log globs under a mount.
        if let root = config["receivers"]?["hostmetrics"]?["root_path"]?.stringValue {
            for dir in ["proc", "sys"] where !pod.mountPaths.contains("\(root)/\(dir)") {
                problems.append("receivers.hostmetrics.root_path: \(root)/\(dir) is not mounted")
            }
        }
        for (i, glob) in (config["receivers"]?["filelog"]?["include"]?.arrayValue ?? []).enumerated() {
            let g = glob.stringValue ?? ""
            if !pod.mountPaths.contains(where: { g.hasPrefix($0 + "/") }) {
                problems.append("receivers.filelog.include[\(i)]: \(g) is not in a mounted volume")
            }
        }
        // Storage: what keeps state names an enabled file_storage extension, whose
        // directories are writable mounts.
        walk(config, path: "") { path, key, value in
            guard key == "storage", let id = value.stringValue else { return }
            if !enabledExtensions.contains(id) || Components.lookup(.extensions, id: id)?.type != "file_storage" {
                problems.append("\(path): storage \(id) is not an enabled file_storage extension")
            }
        }
        for (id, ext) in defined[.extensions]!.sorted(by: { $0.key < $1.key }) where Components.lookup(.extensions, id: id)?.type == "file_storage" {
            for (field, dir) in [("directory", ext["directory"]?.stringValue), ("compaction.directory", ext["compaction"]?["directory"]?.stringValue ?? "/tmp")] {
                guard let dir else {
                    problems.append("extensions.\(id).\(field): missing (the collector's default is not writable under a read-only root filesystem)")
                    continue
                }
                if !pod.writablePaths.contains(where: { dir == $0 || dir.hasPrefix($0 + "/") }) {
                    problems.append("extensions.\(id).\(field): \(dir) is not a writable mount of the pod")
                }
            }
        }
        // Permissions: k8sattributes lists pods through the API server, with the pod's
        // token and only in a namespace its rights cover, and filters on an env variable.
        for (id, p) in defined[.processors]!.sorted(by: { $0.key < $1.key }) where Components.lookup(.processors, id: id)?.type == "k8sattributes" {
            let ns = p["filter"]?["namespace"]?.stringValue
            if let allowed = pod.podReadNamespaces {
                if ns == nil {
                    problems.append("processors.\(id).filter.namespace: missing: the pod may list pods in \(allowed.sorted().joined(separator: ", ")) only, not cluster-wide")
                } else if let ns, !allowed.contains(ns) {
                    problems.append("processors.\(id).filter.namespace: the pod may not list pods in \(ns)")
                }
            } else {
                problems.append("processors.\(id): the pod mounts no ServiceAccount token with rights to list pods")
            }
            if let v = p["filter"]?["node_from_env_var"]?.stringValue, !pod.env.contains(v) {
                problems.append("processors.\(id).filter.node_from_env_var: \(v) is not set in the pod")
            }
        }
        // filelog operators: known types, unique ids.
        for (rid, r) in defined[.receivers]!.sorted(by: { $0.key < $1.key }) where Components.lookup(.receivers, id: rid)?.type == "filelog" {
            var ids: Set<String> = []
            for (i, op) in (r["operators"]?.arrayValue ?? []).enumerated() {
                let type = op["type"]?.stringValue ?? ""
                if !Components.fileLogOperators.contains(type) {
                    problems.append("receivers.\(rid).operators[\(i)]: no operator type \"\(type)\" in otelcol-contrib 0.120.1")
                }
                let id = op["id"]?.stringValue ?? type
                if !ids.insert(id).inserted {
                    problems.append("receivers.\(rid).operators[\(i)]: id \(id) is used twice")
                }
            }
        }
        // Listening ports.
        if let ports = pod.servicePorts {
            walk(config, path: "") { path, key, value in
                guard key == "endpoint", let e = value.stringValue, e.hasPrefix("0.0.0.0:"), let port = Int(e.dropFirst(8)) else { return }
                if !ports.contains(port) {
                    problems.append("\(path): port \(port) is not exposed by the Service")
                }
            }
        }
        return problems
    }

    /// The names in `${env:NAME}` references of a string.
    static func envReferences(_ s: String) -> [String] {
        var names: [String] = []
        var rest = Substring(s)
        while let r = rest.firstRange(of: "${env:") {
            let after = rest[r.upperBound...]
            guard let close = after.firstIndex(of: "}") else { break }
            names.append(String(after[..<close]))
            rest = after[close...]
        }
        return names
    }

    /// Visits every (path, key, value) of a JSON tree.
    static func walk(_ v: JSONValue, path: String, _ visit: (String, String, JSONValue) -> Void) {
        switch v {
        case .object(let o):
            for k in o.keys.sorted() {
                let p = path.isEmpty ? k : "\(path).\(k)"
                visit(p, k, o[k]!)
                walk(o[k]!, path: p, visit)
            }
        case .array(let a):
            for (i, x) in a.enumerated() { walk(x, path: "\(path)[\(i)]", visit) }
        default: break
        }
    }

    /// Checks a stack's rendered configs against the pods Vigil renders for them.
    public static func check(_ ctx: StackContext) -> [String] {
        var problems: [String] = []
        for role in [CollectorRole.agent, .gateway] {
            let config: JSONValue? = role == .agent ? CollectorConfig.agent(ctx) : CollectorConfig.gateway(ctx)
            guard let config else { continue }
            let inputs = CollectorInputs(ctx, role: role)
            var mounts = [CollectorPaths.configDir] + inputs.mounts.map(\.path)
            mounts += CollectorPod.hostMounts(ctx, role: role).map(\.mountPath)
            let writable = CollectorPod.storageVolume(ctx, role: role) == nil ? [] : [CollectorPaths.storage]
            mounts += writable
            let ports: Set<Int>? = role == .agent ? [CollectorPorts.otlpGRPC, CollectorPorts.otlpHTTP, CollectorPorts.metrics, CollectorPorts.telemetry, CollectorPorts.health] : nil
            let podReaders: Set<String>? = CollectorPod.mountsToken(ctx, role: role) ? Set(CollectorRBAC.namespaces(ctx)) : nil
            let pod = Pod(
                env: Set(inputs.env.map(\.name) + CollectorPod.fieldEnv.map(\.name)), mountPaths: mounts, servicePorts: ports, writablePaths: writable,
                podReadNamespaces: podReaders)
            problems += check(config, pod: pod).map { "\(role.rawValue) config: \($0)" }
        }
        return problems
    }
}
