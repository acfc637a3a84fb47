import ArgumentParser
import Controller
import Foundation
import KubeClient
import KubeModel
import Logging
import Render
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `vigil-bench cluster`: P1–P4 of BENCHMARKS.md against a running API server (the bench
/// script starts a fresh control plane for each mode and run).
///
/// - `--mode vigil`: starts `vigil run` as a child process, creates N production stacks
///   across M namespaces, times them to all `Ready` (P1), counts the API server's writes in
///   a steady state (P2), reads Vigil's peak RSS (P3) and CPU, times spec edits to the
///   ConfigMap (P4), and dumps every object Vigil made.
/// - `--mode floor`: a bare client applies exactly those objects (stacks, their objects,
///   status, events) at the same concurrency, with no rendering and no caching: P1's floor.
struct ClusterBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "cluster", abstract: "P1-P4 against an API server: converge N stacks with Vigil, or the bare-client floor.")

    @Option(help: "Kubeconfig of the API server.")
    var kubeconfig: String

    @Option(help: "vigil (Vigil converges the stacks) or floor (a bare client applies Vigil's objects).")
    var mode: String = "vigil"

    @Option(help: "Stacks.")
    var stacks: Int = 500

    @Option(help: "Namespaces the stacks are spread across.")
    var namespaces: Int = 50

    @Option(help: "Concurrency: Vigil's workers, and the floor client's.")
    var concurrency: Int = 4

    @Option(help: "The vigil binary to run (default: the one beside vigil-bench).")
    var vigil: String?

    @Option(help: "Seconds of steady state in which writes are counted (P2).")
    var steady: Double = 60

    @Option(help: "Spec edits timed to the ConfigMap (P4).")
    var edits: Int = 200

    @Option(help: "Objects Vigil made: written in vigil mode, read in floor mode.")
    var dump: String

    @Option(help: "Where the results go (JSON).")
    var json: String

    @Option(help: "Secrets no stack refers to (10 KiB each, across the namespaces), made before Vigil starts: the cost of a cluster's other Secrets.")
    var unrelatedSecrets: Int = 0

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func namespaceName(_ i: Int) -> String { String(format: "bench-%02d", i % namespaces) }
    func stackName(_ i: Int) -> String { String(format: "stack-%03d", i) }

    /// A production stack with no BasicAuth client (bcrypt is measured on its own) and no
    /// referenced Secrets: TLS by Vigil's CA, NetworkPolicy, monitoring and Grafana.
    func stack(_ i: Int) -> ObservabilityStack {
        var spec = StackSpec(environment: .production)
        spec.exporters = ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.monitoring.svc:4317"))
        return ObservabilityStack(metadata: ObjectMeta(name: stackName(i), namespace: namespaceName(i)), spec: spec)
    }

    func run() async throws {
        var logger = Logger(label: "bench")
        logger.logLevel = .warning
        let config = try KubeConfig.load(path: kubeconfig, context: nil)
        let client = try KubeClient(config: config, fieldManager: "vigil", userAgent: "vigil-bench", logger: logger)
        let nsResource = ResourceDescriptor(group: "", version: "v1", kind: "Namespace", plural: "namespaces")
        for i in 0..<namespaces {
            _ = try await client.apply(["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespaceName(i))]], resource: nsResource, namespace: nil, name: namespaceName(i))
        }
        if unrelatedSecrets > 0 { try await makeUnrelatedSecrets(client) }
        let results: [String: JSONValue]
        switch mode {
        case "vigil": results = try await converge(client, logger: logger)
        case "floor": results = try await floor(client)
        default: throw ValidationError("--mode is vigil or floor")
        }
        try Data(try JSONCoding.encode(JSONValue.object(results))).write(to: URL(fileURLWithPath: json))
        try? await client.shutdown()
    }

    // MARK: Vigil

    func converge(_ client: KubeClient, logger: Logger) async throws -> [String: JSONValue] {
        let metricsPort = try freePort(), probePort = try freePort()
        let binary = vigil ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
        let log = URL(fileURLWithPath: json + ".vigil.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = [
            "run", "--kubeconfig", kubeconfig, "--workers", "\(concurrency)", "--log-level", "warning",
            "--metrics-bind-address", "127.0.0.1:\(metricsPort)", "--health-probe-bind-address", "127.0.0.1:\(probePort)",
        ]
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        defer {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            try? handle.close()
        }
        let pid = process.processIdentifier
        // Ready to reconcile: caches synced.
        let readyBy = ContinuousClock.now
        while try await curl("http://127.0.0.1:\(probePort)/readyz") == nil {
            guard process.isRunning, Self.seconds(since: readyBy) < 60 else { throw ValidationError("vigil did not become ready; see \(log.path)") }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        let cpuBefore = cpuSeconds(pid)

        // Watch the stacks: the time every one is Ready at the generation it was created with.
        let ready = Shared<Set<String>>([])
        let total = stacks
        let allReady = Shared<ContinuousClock.Instant?>(nil)
        let watcher = Informer<ObservabilityStack>(client: client, resource: ObservabilityStack.resource, namespace: nil, logger: logger) { event in
            guard case .upserted(let s) = event else { return }
            let ok = s.status?.condition("Ready")?.isTrue == true && s.status?.observedGeneration == s.metadata.generation
            ready.withLock { set in
                if ok { set.insert(s.metadata.key) } else { set.remove(s.metadata.key) }
                if set.count == total { allReady.withLock { if $0 == nil { $0 = .now } } }
            }
        }
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await watcher.run() }
            while !watcher.hasSynced { try await Task.sleep(nanoseconds: 20_000_000) }

            // P1: create the stacks, `concurrency` at a time, and wait for all Ready.
            let start = ContinuousClock.now
            try await forEachConcurrently(0..<stacks) { i in _ = try await client.create(stack(i)) }
            let created = Self.seconds(since: start)
            while allReady.withLock({ $0 }) == nil {
                guard process.isRunning else { throw ValidationError("vigil exited; see \(log.path)") }
                guard Self.seconds(since: start) < 1800 else { throw ValidationError("not all stacks Ready after 30 minutes: \(ready.withLock { $0.count })") }
                try await Task.sleep(nanoseconds: 5_000_000)
            }
            let converged = allReady.withLock { $0 }! - start
            let convergeSeconds = Double(converged.components.seconds) + Double(converged.components.attoseconds) / 1e18
            let cpuConverged = cpuSeconds(pid) - cpuBefore
            let vigilRequests = try await vigilRequestCounts(metricsPort)

            // P2: writes in a steady state, from the API server's own counters. Give the
            // last events and status writes a few seconds to land first.
            try await Task.sleep(nanoseconds: 5_000_000_000)
            let before = try await apiserverWrites(client)
            let vigilBefore = try await vigilRequestCounts(metricsPort)
            try await Task.sleep(nanoseconds: UInt64(steady * 1e9))
            let after = try await apiserverWrites(client)
            let vigilAfter = try await vigilRequestCounts(metricsPort)
            var steadyWrites: [String: JSONValue] = [:]
            for (k, v) in after where v - (before[k] ?? 0) > 0 { steadyWrites[k] = .int(v - (before[k] ?? 0)) }
            let vigilSteadyWrites = ["POST", "PUT", "PATCH", "DELETE"].reduce(0) { $0 + (vigilAfter[$1] ?? 0) - (vigilBefore[$1] ?? 0) }

            // P3: peak and current RSS.
            let memory = rss(pid)

            // P4: edits of one stack's spec, to its ConfigMap holding the new value.
            let latencies = try await editLatencies(client, logger: logger)
            let rssAfterEdits = rss(pid)

            try await dumpObjects(client)
            group.cancelAll()
            return [
                "stacks": .int(stacks), "namespaces": .int(namespaces), "concurrency": .int(concurrency),
                "create_seconds": .double(created),
                "converge_seconds": .double(convergeSeconds),
                "cpu_seconds": .double(cpuConverged),
                "requests_by_verb": .object(vigilRequests.mapValues { .int($0) }),
                "steady_seconds": .double(steady),
                "steady_apiserver_writes": .object(steadyWrites),
                "steady_apiserver_writes_total": .int(steadyWrites.values.compactMap(\.intValue).reduce(0, +)),
                "steady_vigil_writes": .int(vigilSteadyWrites),
                "unrelated_secrets": .int(unrelatedSecrets), "rss_peak_kib": .int(memory.peak), "rss_kib": .int(memory.current), "rss_peak_after_edits_kib": .int(rssAfterEdits.peak),
                "edit_latencies_ms": .array(latencies.map { .double($0 * 1000) }),
            ]
        }
    }

    /// Secrets of 10 KiB that no stack names, like a cluster's Helm release Secrets.
    func makeUnrelatedSecrets(_ client: KubeClient) async throws {
        let value = String(repeating: "x", count: 10 * 1024)
        let started = ContinuousClock.now
        try await forEachConcurrently(0..<unrelatedSecrets, width: max(8, concurrency)) { i in
            let name = String(format: "unrelated-%05d", i)
            _ = try await client.apply(
                Secret(metadata: ObjectMeta(name: name, namespace: self.namespaceName(i)), data: ["release": Data(value.utf8).base64EncodedString()])
            )
        }
        FileHandle.standardError.write(Data("made \(unrelatedSecrets) unrelated Secrets in \(Int(Self.seconds(since: started))) s\n".utf8))
    }

    /// Runs `body` for each element, `concurrency` at a time.
    func forEachConcurrently(_ range: Range<Int>, width: Int? = nil, _ body: @escaping @Sendable (Int) async throws -> Void) async throws {
        let next = Shared(range.lowerBound)
        let end = range.upperBound
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, width ?? concurrency) {
                group.addTask {
                    while true {
                        let i = next.withLock { n -> Int in
                            defer { n += 1 }
                            return n
                        }
                        if i >= end { return }
                        try await body(i)
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    func editLatencies(_ client: KubeClient, logger: Logger) async throws -> [Double] {
        let ns = namespaceName(0), name = stackName(0)
        let latest = Shared("")
        let watcher = Informer<Unstructured>(
            client: client, resource: ConfigMap.resource, namespace: ns, labelSelector: "\(Labels.stack)=\(name)", logger: logger
        ) { event in
            guard case .upserted(let cm) = event, cm.metadata.name == Naming.collector(name) else { return }
            latest.withLock { $0 = cm.object["data"]?["config.yaml"]?.stringValue ?? "" }
        }
        return try await withThrowingTaskGroup(of: [Double].self) { group in
            group.addTask {
                await watcher.run()
                return []
            }
            while !watcher.hasSynced { try await Task.sleep(nanoseconds: 10_000_000) }
            var out: [Double] = []
            for e in 0..<edits {
                // 10 % is the production default: the edits go 11..99 and around again.
                let percentage = 11 + e % 89
                let start = ContinuousClock.now
                _ = try await client.mergePatch(
                    ["spec": ["sampling": ["percentage": .int(percentage)]]], resource: ObservabilityStack.resource, namespace: ns, name: name
                )
                while !latest.withLock({ $0.contains("sampling_percentage: \(percentage)\n") }) {
                    guard Self.seconds(since: start) < 30 else { throw ValidationError("edit \(e) did not reach the ConfigMap in 30 s") }
                    try await Task.sleep(nanoseconds: 500_000)
                }
                out.append(Self.seconds(since: start))
            }
            group.cancelAll()
            return out
        }
    }

    // MARK: the floor

    struct Dump: Codable {
        struct Object: Codable {
            /// One of `Kinds.owned`, by plural.
            var plural: String
            var body: JSONValue
            var resource: ResourceDescriptor? { Kinds.owned.first { $0.plural == plural } }
        }
        struct Stack: Codable {
            var stack: ObservabilityStack
            var objects: [Object]
            var status: StackStatus?
            var events: [Event]
        }
        var stacks: [Stack]
    }

    /// Every object Vigil made, by stack, without the server's bookkeeping.
    func dumpObjects(_ client: KubeClient) async throws {
        var byStack: [String: Dump.Stack] = [:]
        for s in try await client.list(ObservabilityStack.self, namespace: nil).items {
            byStack[s.metadata.key] = Dump.Stack(stack: s, objects: [], status: s.status, events: [])
        }
        for resource in Kinds.owned {
            for item in try await client.list(Unstructured.self, resource: resource, namespace: nil, labelSelector: Labels.managedSelector).items {
                guard let owner = item.metadata.controllerOwner, let ns = item.metadata.namespace else { continue }
                guard case .object(var o) = item.object, case .object(var meta)? = o["metadata"] else { continue }
                for k in ["uid", "resourceVersion", "creationTimestamp", "managedFields", "generation", "selfLink", "ownerReferences"] { meta[k] = nil }
                o["metadata"] = .object(meta)
                o["status"] = nil
                o["apiVersion"] = .string(resource.apiVersion)
                o["kind"] = .string(resource.kind)
                byStack["\(ns)/\(owner.name)"]?.objects.append(Dump.Object(plural: resource.plural, body: .object(o)))
            }
        }
        for e in try await client.list(Event.self, namespace: nil).items where e.source?.component == "vigil" {
            guard let ns = e.involvedObject.namespace, let name = e.involvedObject.name else { continue }
            byStack["\(ns)/\(name)"]?.events.append(e)
        }
        try Data(try JSONCoding.encode(Dump(stacks: byStack.values.sorted { $0.stack.metadata.key < $1.stack.metadata.key }))).write(to: URL(fileURLWithPath: dump))
    }

    func floor(_ client: KubeClient) async throws -> [String: JSONValue] {
        let data = try Data(contentsOf: URL(fileURLWithPath: dump))
        let stacks = try JSONCoding.decode(Dump.self, from: data).stacks
        let start = ContinuousClock.now
        let writes = Shared(0)
        try await forEachConcurrently(0..<stacks.count) { i in
            let d = stacks[i]
            var fresh = ObservabilityStack(metadata: ObjectMeta(name: d.stack.metadata.name, namespace: d.stack.metadata.namespace), spec: d.stack.spec)
            fresh.metadata.labels = d.stack.metadata.labels
            let created = try await client.create(fresh)
            var n = 1
            let owner: JSONValue = [[
                "apiVersion": .string(ObservabilityStack.resource.apiVersion), "kind": .string(ObservabilityStack.resource.kind),
                "name": .string(created.metadata.name ?? ""), "uid": .string(created.metadata.uid ?? ""), "controller": true, "blockOwnerDeletion": true,
            ]]
            for object in d.objects {
                guard let resource = object.resource else { continue }
                var body = object.body
                body["metadata"]?["ownerReferences"] = owner
                _ = try await client.apply(body, resource: resource, namespace: created.metadata.namespace, name: body["metadata"]?["name"]?.stringValue ?? "")
                n += 1
            }
            if let status = d.status {
                let body: JSONValue = [
                    "apiVersion": .string(ObservabilityStack.resource.apiVersion), "kind": .string(ObservabilityStack.resource.kind),
                    "metadata": ["name": .string(created.metadata.name ?? ""), "namespace": .string(created.metadata.namespace ?? "")],
                    "status": try jsonValue(of: status),
                ]
                _ = try await client.apply(body, resource: ObservabilityStack.resource, namespace: created.metadata.namespace, name: created.metadata.name ?? "", subresource: "status")
                n += 1
            }
            for e in d.events {
                var event = e
                event.metadata = ObjectMeta(name: "\(created.metadata.name ?? "")-\(UUID().uuidString.prefix(8).lowercased())", namespace: created.metadata.namespace)
                event.involvedObject.uid = created.metadata.uid
                _ = try await client.create(event)
                n += 1
            }
            writes.withLock { $0 += n }
        }
        return ["floor_seconds": .double(Self.seconds(since: start)), "floor_writes": .int(writes.withLock { $0 }), "stacks": .int(stacks.count), "concurrency": .int(concurrency)]
    }

    // MARK: measuring

    /// Writes the API server has answered, by `verb resource[/subresource]`, for the kinds
    /// Vigil writes (the control plane's own leases and the like left out).
    func apiserverWrites(_ client: KubeClient) async throws -> [String: Int] {
        let text = String(decoding: try await client.getRaw("/metrics"), as: UTF8.self)
        let kinds: Set<String> = Set(Kinds.owned.map(\.plural) + ["observabilitystacks", "events", "prometheusrules", "servicemonitors", "namespaces"])
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("apiserver_request_total{") {
            func label(_ name: String) -> String? {
                guard let r = line.range(of: "\(name)=\"") else { return nil }
                return String(line[r.upperBound...].prefix { $0 != "\"" })
            }
            guard let verb = label("verb"), ["POST", "PUT", "PATCH", "DELETE", "APPLY"].contains(verb), let resource = label("resource"), kinds.contains(resource) else { continue }
            let sub = label("subresource").flatMap { $0.isEmpty ? nil : "/" + $0 } ?? ""
            let value = Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
            out["\(verb) \(resource)\(sub)", default: 0] += value
        }
        return out
    }

    /// Vigil's own `rest_client_requests_total`, by method.
    func vigilRequestCounts(_ port: Int) async throws -> [String: Int] {
        guard let text = try await curl("http://127.0.0.1:\(port)/metrics") else { return [:] }
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("rest_client_requests_total{") {
            guard let r = line.range(of: "method=\"") else { continue }
            let method = String(line[r.upperBound...].prefix { $0 != "\"" })
            out[method, default: 0] += Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
        }
        return out
    }

    func curl(_ url: String) async throws -> String? {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-sf", "--max-time", "5", url]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return p.terminationStatus == 0 ? String(decoding: data, as: UTF8.self) : nil
    }

    /// utime + stime of a process, in seconds.
    func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmHWM (peak) and VmRSS of a process, in KiB.
    func rss(_ pid: Int32) -> (peak: Int, current: Int) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "0") ?? 0
        }
        return (field("VmHWM"), field("VmRSS"))
    }

    /// A port nothing listens on now.
    func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ValidationError("socket failed") }
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = 0
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) == 0 && getsockname(fd, $0, &len) == 0 }
        }
        guard bound else { throw ValidationError("bind failed") }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}
