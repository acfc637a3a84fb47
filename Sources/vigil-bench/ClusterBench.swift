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
/// - `--mode kopf`: the baseline operator (`scripts/kopf-baseline.py`, Python's kopf) makes
///   the same objects from the dump for the same stacks, timed the same way (P6).
///
/// Convergence ends at the operator's last write, not at the last stack's `Ready`: the
/// stacks must all be Ready and the operator's writes unchanged for `--quiet` seconds
/// (Vigil's own `rest_client_requests_total`; for kopf, the API server's count of writes to
/// the kinds an operator writes). The API server's and etcd's CPU over the same time is
/// read from their processes (their pid files beside the kubeconfig).
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

    @Option(help: "Concurrency: Vigil's workers, the floor client's requests and the kopf baseline's stacks in flight.")
    var concurrency: Int = 4

    @Option(help: "Vigil's --workers: a number, or `default` for what Vigil runs with when not told (default: --concurrency).")
    var workers: String?

    @Option(help: "Vigil's --log-level (its log is written beside --json).")
    var vigilLogLevel: String = "warning"

    @Option(help: "Seconds without a write from the operator, once all stacks are Ready, that end convergence.")
    var quiet: Double = 5

    @Option(help: "The python that runs the kopf baseline (scripts/control-plane kopf-python).")
    var kopfPython: String?

    @Option(help: "The kopf baseline operator.")
    var kopfScript: String = "scripts/kopf-baseline.py"

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
        let results: JSONObject
        do {
            if unrelatedSecrets > 0 { try await makeUnrelatedSecrets(client) }
            switch mode {
            case "vigil": results = try await converge(client, logger: logger)
            case "floor": results = try await floor(client)
            case "kopf": results = try await kopf(client, logger: logger)
            default: throw ValidationError("--mode is vigil, floor or kopf")
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
        try Data(try JSONCoding.encode(JSONValue.object(results))).write(to: URL(fileURLWithPath: json))
        try? await client.shutdown()
    }

    // MARK: Vigil

    func converge(_ client: KubeClient, logger: Logger) async throws -> JSONObject {
        let metricsPort = try freePort(), probePort = try freePort()
        let binary = vigil ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("vigil").path
        var arguments = [
            // No admission webhook: the bench measures the reconcile (and has no Service for it).
            "run", "--kubeconfig", kubeconfig, "--log-level", vigilLogLevel, "--webhook-bind-address", "0",
            "--metrics-bind-address", "127.0.0.1:\(metricsPort)", "--health-probe-bind-address", "127.0.0.1:\(probePort)",
        ]
        if workers != "default" { arguments += ["--workers", workers ?? "\(concurrency)"] }
        let child = try Child(binary, arguments, log: json + ".vigil.log")
        defer { child.stop() }
        // Ready to reconcile: caches synced.
        try await child.waitUntilServing("http://127.0.0.1:\(probePort)/readyz")
        let pid = child.process.processIdentifier
        let cpuBefore = Self.cpuSeconds(pid)

        let watcher = ReadyWatcher(client: client, stacks: stacks, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await watcher.informer.run() }
            while !watcher.informer.hasSynced { try await Task.sleep(nanoseconds: 20_000_000) }

            // P1: create the stacks, `concurrency` at a time, and wait for all Ready and
            // Vigil's last write.
            let plane = ControlPlaneCPU(kubeconfig: kubeconfig)
            let start = ContinuousClock.now
            try await forEachConcurrently(0..<stacks) { i in _ = try await client.create(stack(i)) }
            let created = Self.seconds(since: start)
            let done = try await converged(start: start, watcher: watcher, every: 0.25, log: child.log, running: { child.process.isRunning }) {
                let counts = try await vigilRequestCounts(metricsPort)
                return ["POST", "PUT", "PATCH", "DELETE"].reduce(0) { $0 + (counts[$1] ?? 0) }
            }
            let planeCPU = plane.since()
            let convergeSeconds = done.lastWrite
            let cpuConverged = Self.cpuSeconds(pid) - cpuBefore
            let vigilRequests = try await vigilRequestCounts(metricsPort)

            // P2: writes in a steady state, from the API server's own counters. Give the
            // last events and status writes a few seconds to land first.
            try await Task.sleep(nanoseconds: 5_000_000_000)
            let before = try await apiserverWrites(client)
            let vigilBefore = try await vigilRequestCounts(metricsPort)
            try await Task.sleep(nanoseconds: UInt64(steady * 1e9))
            let after = try await apiserverWrites(client)
            let vigilAfter = try await vigilRequestCounts(metricsPort)
            var steadyWrites: JSONObject = [:]
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
                "converge_seconds": .double(convergeSeconds), "ready_seconds": .double(done.ready),
                "workers": .string(workers ?? "\(concurrency)"),
                "apiserver_cpu_seconds": .double(planeCPU.apiserver), "etcd_cpu_seconds": .double(planeCPU.etcd),
                "cpu_seconds": .double(cpuConverged),
                "requests_by_verb": .object(JSONObject(vigilRequests.mapValues { .int($0) })),
                "steady_seconds": .double(steady),
                "steady_apiserver_writes": .object(steadyWrites),
                "steady_apiserver_writes_total": .int(steadyWrites.values.compactMap(\.intValue).reduce(0, +)),
                "steady_vigil_writes": .int(vigilSteadyWrites),
                "unrelated_secrets": .int(unrelatedSecrets), "rss_peak_kib": .int(memory.peak), "rss_kib": .int(memory.current), "rss_peak_after_edits_kib": .int(rssAfterEdits.peak),
                // Heap and stacks against the binary's pages: what a cache change can move.
                "rss_anon_kib": .int(memory.anon), "rss_file_kib": .int(memory.file),
                "edit_latencies_ms": .array(latencies.map { .double($0 * 1000) }),
            ]
        }
    }

    /// An operator under measurement, run as a child process with its output in a log file.
    final class Child {
        let process = Process()
        let handle: FileHandle
        let log: String

        init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, log: String) throws {
            self.log = log
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let environment { process.environment = environment }
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
        }

        /// Polls `url` until it answers 200: a minute at most, and not after the child exits.
        func waitUntilServing(_ url: String) async throws {
            let since = ContinuousClock.now
            while try await ClusterBench.curl(url) == nil {
                guard process.isRunning, ClusterBench.seconds(since: since) < 60 else { throw ValidationError("\(url) did not answer; see \(log)") }
                try await Task.sleep(nanoseconds: 50_000_000)
            }
        }

        /// TERM, five seconds for a graceful stop (kopf's can wait for its watches), then KILL.
        func stop() {
            if process.isRunning { process.terminate() }
            for _ in 0..<50 where process.isRunning { usleep(100_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            try? handle.close()
        }
    }

    /// The stacks, watched: which are Ready at the generation they were created with.
    final class ReadyWatcher: Sendable {
        let ready = Shared<Set<String>>([])
        let allReady = Shared<ContinuousClock.Instant?>(nil)
        let informer: Informer<ObservabilityStack>

        init(client: KubeClient, stacks: Int, logger: Logger) {
            let ready = self.ready, allReady = self.allReady
            informer = Informer<ObservabilityStack>(client: client, resource: ObservabilityStack.resource, namespace: nil, logger: logger) { event in
                guard case .upserted(let s) = event else { return }
                let ok = s.status?.condition("Ready")?.isTrue == true && s.status?.observedGeneration == s.metadata.generation
                ready.withLock { set in
                    if ok { set.insert(s.metadata.key) } else { set.remove(s.metadata.key) }
                    if set.count == stacks { allReady.withLock { if $0 == nil { $0 = .now } } }
                }
            }
        }
    }

    /// Waits for every stack Ready and then `quiet` seconds in which `writes()` (the
    /// operator's write count, polled every `every` seconds) does not change. Returns the
    /// seconds from `start` to all Ready and to the last change of the count.
    func converged(
        start: ContinuousClock.Instant, watcher: ReadyWatcher, every: Double, log: String, running: () -> Bool, writes: () async throws -> Int
    ) async throws -> (ready: Double, lastWrite: Double) {
        var count = try await writes()
        var last = ContinuousClock.now
        var reported = 0
        while true {
            guard running() else { throw ValidationError("the operator exited; see \(log)") }
            guard Self.seconds(since: start) < 1800 else { throw ValidationError("not all stacks Ready after 30 minutes: \(watcher.ready.withLock { $0.count })") }
            try await Task.sleep(nanoseconds: UInt64(every * 1e9))
            let n = try await writes()
            if n != count { (count, last) = (n, .now) }
            if Int(Self.seconds(since: start)) / 30 > reported {
                reported = Int(Self.seconds(since: start)) / 30
                progress("\(watcher.ready.withLock { $0.count }) of \(stacks) Ready; \(n) writes, the last \(Int(Self.seconds(since: last))) s ago")
            }
            if let ready = watcher.allReady.withLock({ $0 }), ContinuousClock.now - last >= .milliseconds(Int(quiet * 1000)) {
                func s(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
                return (s(ready - start), max(s(ready - start), s(last - start)))
            }
        }
    }

    /// The CPU the API server and etcd used since this was made (their pid files are beside
    /// the kubeconfig, as `scripts/control-plane start` leaves them).
    struct ControlPlaneCPU {
        let pids: (apiserver: Int32?, etcd: Int32?)
        let before: (apiserver: Double, etcd: Double)

        init(kubeconfig: String) {
            let dir = URL(fileURLWithPath: kubeconfig).deletingLastPathComponent()
            func pid(_ name: String) -> Int32? {
                (try? String(contentsOf: dir.appendingPathComponent("\(name).pid"), encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            pids = (pid("kube-apiserver"), pid("etcd"))
            before = (pids.apiserver.map(ClusterBench.cpuSeconds) ?? 0, pids.etcd.map(ClusterBench.cpuSeconds) ?? 0)
        }

        func since() -> (apiserver: Double, etcd: Double) {
            ((pids.apiserver.map(ClusterBench.cpuSeconds) ?? 0) - before.apiserver, (pids.etcd.map(ClusterBench.cpuSeconds) ?? 0) - before.etcd)
        }
    }

    // MARK: kopf

    /// The kopf baseline: the same stacks, made by `scripts/kopf-baseline.py` from the dump of
    /// Vigil's objects, timed to all Ready and the last write as Vigil is.
    func kopf(_ client: KubeClient, logger: Logger) async throws -> JSONObject {
        guard let python = kopfPython else { throw ValidationError("--mode kopf needs --kopf-python") }
        let dir = URL(fileURLWithPath: kubeconfig).deletingLastPathComponent()
        var env = ProcessInfo.processInfo.environment
        for line in (try String(contentsOf: dir.appendingPathComponent("env"), encoding: .utf8)).split(separator: "\n") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            env[String(line[..<eq])] = String(line[line.index(after: eq)...]).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        env["KOPF_BASELINE_DUMP"] = dump
        env["KOPF_BASELINE_CONCURRENCY"] = "\(concurrency)"
        let port = try freePort()
        let child = try Child(
            python, ["-m", "kopf", "run", "--standalone", "--all-namespaces", "--liveness", "http://127.0.0.1:\(port)/healthz", kopfScript],
            environment: env, log: json + ".kopf.log"
        )
        defer { child.stop() }
        try await child.waitUntilServing("http://127.0.0.1:\(port)/healthz")
        let pid = child.process.processIdentifier
        progress("kopf is up")
        let cpuBefore = Self.cpuSeconds(pid)
        let watcher = ReadyWatcher(client: client, stacks: stacks, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await watcher.informer.run() }
            while !watcher.informer.hasSynced { try await Task.sleep(nanoseconds: 20_000_000) }
            let plane = ControlPlaneCPU(kubeconfig: kubeconfig)
            let start = ContinuousClock.now
            try await forEachConcurrently(0..<stacks) { i in _ = try await client.create(stack(i)) }
            progress("created \(stacks) stacks")
            // kopf has no client metrics: the API server's count of writes to what an
            // operator writes (not the DaemonSet controller's status, not events).
            let done = try await converged(start: start, watcher: watcher, every: 1, log: child.log, running: { child.process.isRunning }) {
                try await apiserverWrites(client).filter { k, _ in !k.hasSuffix("/status") || k.hasSuffix("observabilitystacks/status") }
                    .filter { k, _ in !k.contains(" events") }.values.reduce(0, +)
            }
            let planeCPU = plane.since()
            let cpu = Self.cpuSeconds(pid) - cpuBefore
            let memory = rss(pid)
            group.cancelAll()
            return [
                "stacks": .int(stacks), "namespaces": .int(namespaces), "concurrency": .int(concurrency),
                "converge_seconds": .double(done.lastWrite), "ready_seconds": .double(done.ready), "cpu_seconds": .double(cpu),
                "apiserver_cpu_seconds": .double(planeCPU.apiserver), "etcd_cpu_seconds": .double(planeCPU.etcd),
                "rss_peak_kib": .int(memory.peak),
            ]
        }
    }

    func progress(_ line: String) { FileHandle.standardError.write(Data("[\(mode)] \(line)\n".utf8)) }

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
        // The sampler runs in the gateway where there is one (production with Tempo), else
        // in the agents: whichever ConfigMap holds it.
        let latest = Shared<[String: String]>([:])
        let watcher = Informer<Unstructured>(
            client: client, resource: ConfigMap.resource, namespace: ns, labelSelector: "\(Labels.stack)=\(name)", logger: logger
        ) { event in
            guard case .upserted(let cm) = event, let key = cm.metadata.name else { return }
            latest.withLock { $0[key] = cm.object["data"]?["config.yaml"]?.stringValue ?? "" }
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
                while !latest.withLock({ $0.values.contains { $0.contains("sampling_percentage: \(percentage)\n") } }) {
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
            var resource: ResourceDescriptor? { ClusterBench.dumped.first { $0.plural == plural } }
        }
        struct Stack: Codable {
            var stack: ObservabilityStack
            var objects: [Object]
            var status: StackStatus?
            var events: [Event]
        }
        var stacks: [Stack]
    }

    /// The kinds of the objects Vigil makes: the cached kinds, and the gateway's
    /// PodDisruptionBudget (policy/v1beta1 on the 1.20 control plane).
    static let dumped = Kinds.owned + [ResourceDescriptor(group: "policy", version: "v1beta1", kind: "PodDisruptionBudget", plural: "poddisruptionbudgets")]

    /// Every object Vigil made, by stack, without the server's bookkeeping.
    func dumpObjects(_ client: KubeClient) async throws {
        var byStack: [String: Dump.Stack] = [:]
        for s in try await client.list(ObservabilityStack.self, namespace: nil).items {
            byStack[s.metadata.key] = Dump.Stack(stack: s, objects: [], status: s.status, events: [])
        }
        for resource in Self.dumped {
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

    func floor(_ client: KubeClient) async throws -> JSONObject {
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
        guard let text = try await Self.curl("http://127.0.0.1:\(port)/metrics") else { return [:] }
        var out: [String: Int] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("rest_client_requests_total{") {
            guard let r = line.range(of: "method=\"") else { continue }
            let method = String(line[r.upperBound...].prefix { $0 != "\"" })
            out[method, default: 0] += Int(Double(line.split(separator: " ").last ?? "0") ?? 0)
        }
        return out
    }

    /// GET of `http://127.0.0.1:PORT/PATH` in process (HTTP/1.0 on a plain socket, 5 s
    /// timeout): the body on a 200, else nil. Polling through a `curl` child every 250 ms
    /// took a few percent of the two cores the measured run has.
    static func curl(_ url: String) async throws -> String? {
        guard let rest = url.split(separator: "127.0.0.1:", maxSplits: 1).last, let slash = rest.firstIndex(of: "/"), let port = UInt16(rest[..<slash]) else { return nil }
        let path = String(rest[slash...])
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = port.bigEndian
        let connected = withUnsafePointer(to: &addr) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        guard connected else { return nil }
        let request = Array("GET \(path) HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, 0) }) == request.count else { return nil }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            response.append(contentsOf: buffer[..<n])
        }
        let text = String(decoding: response, as: UTF8.self)
        guard text.hasPrefix("HTTP/1.1 200") || text.hasPrefix("HTTP/1.0 200"), let body = text.range(of: "\r\n\r\n") else { return nil }
        return String(text[body.upperBound...])
    }

    /// utime + stime of a process, in seconds.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3; utime and stime are fields 14 and 15.
        guard fields.count > 13, let u = Double(fields[11]), let s = Double(fields[12]) else { return 0 }
        return (u + s) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// VmHWM (peak) and VmRSS of a process, in KiB.
    func rss(_ pid: Int32) -> (peak: Int, current: Int, anon: Int, file: Int) {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        func field(_ name: String) -> Int {
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return 0 }
            return Int(line.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "0") ?? 0
        }
        return (field("VmHWM"), field("VmRSS"), field("RssAnon"), field("RssFile"))
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
