import Foundation
import KubeClient
import KubeModel
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Where this test run keeps control planes; `scripts/test` stops whatever is left there.
let testRoot: String = {
    let root = ProcessInfo.processInfo.environment["VIGIL_TEST_ROOT"] ?? "/tmp/vigil-test-\(getpid())"
    try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    return root
}()

struct CommandError: Error, CustomStringConvertible {
    var description: String
}

/// Runs a command to completion; returns stdout, throws with stderr on failure. Output goes
/// through files, not pipes: daemons that a command starts may inherit a pipe and keep it
/// open forever.
@discardableResult
func run(_ args: [String], environment: [String: String] = [:], input: String? = nil) async throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    var env = ProcessInfo.processInfo.environment
    env.merge(environment) { _, n in n }
    p.environment = env
    let base = "\(testRoot)/cmd-\(UUID().uuidString)"
    let outPath = base + ".out", errPath = base + ".err", inPath = base + ".in"
    defer {
        for f in [outPath, errPath, inPath] { try? FileManager.default.removeItem(atPath: f) }
    }
    _ = FileManager.default.createFile(atPath: outPath, contents: nil)
    _ = FileManager.default.createFile(atPath: errPath, contents: nil)
    _ = FileManager.default.createFile(atPath: inPath, contents: Data((input ?? "").utf8))
    let out = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
    let err = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
    let inp = try FileHandle(forReadingFrom: URL(fileURLWithPath: inPath))
    // Closed explicitly: hundreds of commands leaked their descriptors until Foundation's
    // Process.run() crashed enumerating more than a thousand of them.
    defer { for h in [out, err, inp] { try? h.close() } }
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    // Wait without blocking a thread of the shared concurrency pool: tests run in parallel
    // on two cores, and blocked threads starve the rest.
    await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
        p.terminationHandler = { _ in c.resume() }
        do {
            try spawn(p)
        } catch {
            p.terminationHandler = nil
            c.resume()
        }
    }
    guard p.processIdentifier != 0 else { throw CommandError(description: "cannot start \(args.joined(separator: " "))") }
    let stdout = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
    let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
    guard p.terminationStatus == 0 else {
        throw CommandError(description: "\(args.joined(separator: " ")) exited \(p.terminationStatus): \(stderr)\(stdout)")
    }
    return stdout
}

/// A real etcd + kube-apiserver + kube-controller-manager on loopback, started by
/// `scripts/control-plane`.
final class ControlPlane: Sendable {
    let dir: String
    let kubeconfig: String
    let env: [String: String]
    let client: KubeClient

    /// `controllers` replaces kube-controller-manager's controller list; leave `daemonset`
    /// out to play the DaemonSet controller's part in the test.
    static func start(name: String, apiserverArgs: String = "", controllers: String? = nil, extraUsers: [String] = []) async throws -> ControlPlane {
        var env = ["APISERVER_EXTRA_ARGS": apiserverArgs, "EXTRA_USERS": extraUsers.joined(separator: " ")]
        if let controllers { env["KCM_CONTROLLERS"] = controllers }
        let script = repoRoot.appendingPathComponent("scripts/control-plane").path
        // Control planes start side by side, each picking free ports at random: two can pick
        // the same one between the check and the bind ("address already in use"). Such a
        // start is stopped and made again with new ports, in a new directory.
        for attempt in 1...3 {
            let dir = "\(testRoot)/\(name)-\(UUID().uuidString.prefix(8))"
            do {
                try await run([script, "start", dir], environment: env)
                return try ControlPlane(dir: dir)
            } catch let e as CommandError where e.description.contains("address already in use") && attempt < 3 {
                _ = try? await run([script, "stop", dir])
            }
        }
        throw CommandError(description: "control plane \(name) did not start")
    }

    init(dir: String) throws {
        self.dir = dir
        let text = try String(contentsOfFile: "\(dir)/env", encoding: .utf8)
        var env: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { env[String(parts[0])] = String(parts[1]) }
        }
        self.env = env
        kubeconfig = "\(dir)/kubeconfig"
        client = try KubeClient(config: try KubeConfig.fromFile(kubeconfig), fieldManager: "vigil-tests", userAgent: "vigil-tests")
    }

    /// The API server's port.
    var port: Int { Int(env["APISERVER_PORT"] ?? "") ?? 0 }

    /// A copy of `user`'s kubeconfig (`admin`, or one of `extraUsers`) whose server is
    /// 127.0.0.1:`port` (a proxy in front of this API server); the CA stays this server's.
    func kubeconfig(user: String = "admin", port: Int) throws -> String {
        let source = user == "admin" ? kubeconfig : "\(dir)/\(user).kubeconfig"
        let text = try String(contentsOfFile: source, encoding: .utf8)
            .replacingOccurrences(of: "server: https://127.0.0.1:\(self.port)", with: "server: https://127.0.0.1:\(port)")
        let path = "\(dir)/\(user)-via-\(port).kubeconfig"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func stop() async {
        try? await client.shutdown()
        _ = try? await run([repoRoot.appendingPathComponent("scripts/control-plane").path, "stop", dir])
    }

    func restartEtcd(downSeconds: Int) async throws {
        try await run([repoRoot.appendingPathComponent("scripts/control-plane").path, "restart-etcd", dir, String(downSeconds)])
    }

    func restartAPIServer(downSeconds: Int) async throws {
        try await run([repoRoot.appendingPathComponent("scripts/control-plane").path, "restart-apiserver", dir, String(downSeconds)])
    }

    @discardableResult
    func kubectl(_ args: String..., input: String? = nil) async throws -> String {
        try await run(["kubectl", "--kubeconfig", kubeconfig] + args, input: input)
    }

    func kubectlArgs(_ args: [String], input: String? = nil) async throws -> String {
        try await run(["kubectl", "--kubeconfig", kubeconfig] + args, input: input)
    }

    func installCRD() async throws {
        try await kubectl("apply", "-f", repoRoot.appendingPathComponent("crds").path)
        try await kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/\(StackCRD.name)")
    }

    /// Creates a namespace, or leaves an existing one (suites share a control plane).
    /// Creates a namespace, or leaves it as it is. Tests on the shared plane create the same
    /// namespaces side by side: a client-side apply that lost the race to create one
    /// (AlreadyExists) applies again, and then finds it.
    func createNamespace(_ name: String) async throws {
        let yaml = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: \(name)\n"
        do {
            try await kubectl("apply", "-f", "-", input: yaml)
        } catch where "\(error)".contains("AlreadyExists") {
            try await kubectl("apply", "-f", "-", input: yaml)
        }
    }

    /// Lets stacks (`<namespace>/<name>`) publish client Secrets into a namespace; none revokes.
    func accept(_ stacks: [String], in namespace: String) async throws {
        let value = stacks.joined(separator: ",")
        try await kubectl("annotate", "namespace", namespace, "--overwrite", value.isEmpty ? "observability.vigil.dev/accept-stacks-" : "observability.vigil.dev/accept-stacks=\(value)")
    }

    /// The object, or nil when the server says it does not exist.
    /// A pod that reads `secret` (`envFrom` and a volume at /etc/vigil/otlp), started at
    /// `startTime` as the kubelet would report it (no kubelet runs here); its namespace
    /// needs a `default` ServiceAccount, made by hand (no service-account controller runs).
    func consumerPod(_ name: String, namespace: String, secret: String, startTime: Date) async throws {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), namespace: \(namespace)}
            spec:
              automountServiceAccountToken: false
              containers:
                - name: app
                  image: registry.example/app:1
                  envFrom: [{secretRef: {name: \(secret)}}]
                  volumeMounts: [{name: otlp, mountPath: /etc/vigil/otlp}]
              volumes: [{name: otlp, secret: {secretName: \(secret)}}]
            """
        try await kubectl("apply", "-f", "-", input: yaml)
        let started = startTime.formatted(.iso8601)
        try await kubectl("patch", "pod", name, "-n", namespace, "--subresource=status", "--type=merge", "-p", #"{"status":{"startTime":"\#(started)","phase":"Running"}}"#)
    }

    func getIfExists<T: KubeResource>(_ type: T.Type, _ namespace: String, _ name: String) async throws -> T? {
        try await ifExists { try await client.get(T.self, namespace: namespace, name: name) }
    }

    /// A Secret's values, decoded, or nil when it does not exist.
    func secretData(_ namespace: String, _ name: String) async throws -> [String: String]? {
        try await getIfExists(Secret.self, namespace, name)?.data?.compactMapValues { Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) } }
    }

    /// Sum of `apiserver_request_total` for the given verbs and resources.
    func requestCount(verbs: Set<String>, resources: Set<String>) async throws -> Int {
        let text = String(decoding: try await client.getRaw("/metrics"), as: UTF8.self)
        var total = 0
        for line in text.split(separator: "\n") where line.hasPrefix("apiserver_request_total{") {
            guard let close = line.firstIndex(of: "}") else { continue }
            let labels = line[line.index(line.startIndex, offsetBy: 24)..<close]
            var map: [String: String] = [:]
            for pair in labels.split(separator: ",") {
                let kv = pair.split(separator: "=", maxSplits: 1)
                if kv.count == 2 { map[String(kv[0])] = kv[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            }
            guard let verb = map["verb"], verbs.contains(verb), let resource = map["resource"], resources.contains(resource) else { continue }
            total += Int(Double(line[line.index(after: close)...].trimmingCharacters(in: .whitespaces)) ?? 0)
        }
        return total
    }
}

/// Runs `body` on a control plane of its own, which is stopped afterwards whether `body`
/// returns or throws.
func withOwnControlPlane(
    name: String, apiserverArgs: String = "", controllers: String? = nil, extraUsers: [String] = [], _ body: (ControlPlane) async throws -> Void
) async throws {
    let plane = try await ControlPlane.start(name: name, apiserverArgs: apiserverArgs, controllers: controllers, extraUsers: extraUsers)
    do {
        try await body(plane)
    } catch {
        await plane.stop()
        throw error
    }
    await plane.stop()
}

/// The shared control plane of this test process, started once. Callers that arrive while
/// it starts wait for that start (the actor is re-entrant across the await).
actor SharedControlPlane {
    static let shared = SharedControlPlane()
    var plane: ControlPlane?
    var failure: (any Error)?
    var starting = false
    var waiters: [CheckedContinuation<Void, Never>] = []

    func get() async throws -> ControlPlane {
        while true {
            if let plane { return plane }
            if let failure { throw failure }
            if !starting { break }
            await withCheckedContinuation { waiters.append($0) }
        }
        starting = true
        defer {
            starting = false
            for w in waiters { w.resume() }
            waiters = []
        }
        do {
            let p = try await ControlPlane.start(name: "shared")
            do {
                try await p.installCRD()
            } catch {
                await p.stop()
                throw error
            }
            plane = p
            return p
        } catch {
            failure = error
            throw error
        }
    }
}

/// A TCP proxy on loopback in front of an API server (`Fixtures/tcp-proxy.py`), which a
/// test can blackhole, slow down or point at another server.
final class TCPProxy: Sendable {
    let process: Process
    let port: Int
    let control: String

    init(targetPort: Int) throws {
        control = "\(testRoot)/proxy-\(UUID().uuidString.prefix(8))"
        try "pass".write(toFile: control, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", repoRoot.appendingPathComponent("Tests/IntegrationTests/Fixtures/tcp-proxy.py").path, control, String(targetPort)]
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        p.standardInput = FileHandle.nullDevice
        try spawn(p)
        process = p
        // The first line names the port it listens on.
        var line = [UInt8]()
        while let byte = try out.fileHandleForReading.read(upToCount: 1)?.first, byte != UInt8(ascii: "\n") { line.append(byte) }
        try? out.fileHandleForReading.close()
        try? out.fileHandleForWriting.close()
        guard let port = Int(String(decoding: line, as: UTF8.self).split(separator: " ").last ?? "") else {
            _ = Glibc.kill(p.processIdentifier, SIGKILL)
            throw CommandError(description: "tcp-proxy did not start: \(String(decoding: line, as: UTF8.self))")
        }
        self.port = port
    }

    /// `pass`, `blackhole`, `delay:SECONDS` or `target:PORT`; in force within 50 ms.
    func set(_ mode: String) throws {
        try mode.write(toFile: control, atomically: true, encoding: .utf8)
        Thread.sleep(forTimeInterval: 0.2)
    }

    func stop() {
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}

/// Runs `body` with a `vigil run` process against `kubeconfig`, and kills the process
/// afterwards however `body` ends (the prologue every operator test shares).
func withVigil<T>(
    kubeconfig: String, namespace: String?, extra: [String] = [], _ body: (VigilProcess) async throws -> T
) async throws -> T {
    let vigil = try VigilProcess(kubeconfig: kubeconfig, namespace: namespace, extra: extra)
    defer { vigil.kill() }
    do {
        return try await body(vigil)
    } catch {
        // A test that gives up shows what Vigil was doing (CI keeps only the test output).
        let tail = vigil.log.split(separator: "\n", omittingEmptySubsequences: false).suffix(60)
        print("vigil log (last \(tail.count) lines) of a test that failed with: \(error)\n" + tail.joined(separator: "\n"))
        throw error
    }
}

/// A running `vigil run` process.
final class VigilProcess: Sendable {
    let process: Process
    let logPath: String
    /// When the process was seen to end, stamped by Foundation's termination handler on a
    /// Dispatch thread: the test's own concurrency pool, which another suite may keep busy
    /// on two cores, cannot make an exit look late (a poll on that pool once read 23 s for
    /// an exit due at 15).
    private let exitedAt = Mutex<Date?>(nil)

    static var binary: String {
        ProcessInfo.processInfo.environment["VIGIL_BINARY"] ?? repoRoot.appendingPathComponent(".build/debug/vigil").path
    }

    init(kubeconfig: String, namespace: String?, extra: [String] = []) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        // Ports chosen by the kernel: tests run side by side.
        var args = [
            "run", "--kubeconfig", kubeconfig, "--log-level", "debug",
            "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0",
            // The admission webhook only where a test serves it (`extra` overrides this).
            "--webhook-bind-address", "0",
        ]
        if let namespace { args += ["--namespace", namespace] }
        p.arguments = args + extra
        logPath = "\(testRoot)/vigil-\(UUID().uuidString.prefix(8)).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        p.standardError = handle
        p.standardOutput = handle
        p.standardInput = FileHandle.nullDevice
        process = p
        p.terminationHandler = { [weak self] _ in
            let now = Date()
            self?.exitedAt.withLock { $0 = now }
        }
        try spawn(p)
        // The child has its own copy of the log's descriptor.
        try? handle.close()
    }

    var isRunning: Bool { process.isRunning }

    /// SIGKILL, if it still runs.
    func kill() {
        if process.isRunning { _ = Glibc.kill(process.processIdentifier, SIGKILL) }
    }

    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// The base URL of an HTTP endpoint Vigil logged (`metrics` or `health probes`).
    func endpoint(_ name: String) async throws -> String {
        try await eventually("Vigil serving \(name)") { () -> String? in
            // Text (address=127.0.0.1:N) or JSON ("address":"127.0.0.1:N") logs.
            guard let line = log.split(separator: "\n").first(where: { $0.contains("serving \(name)") }),
                let range = line.range(of: "address=127.0.0.1:") ?? line.range(of: "\"address\":\"127.0.0.1:")
            else { return nil }
            let port = line[range.upperBound...].prefix { $0.isNumber }
            return port.isEmpty ? nil : "http://127.0.0.1:\(port)"
        }
    }

    /// SIGTERM, then wait; returns the exit status, or nil if it had to be killed.
    func terminate(timeout: Double = 15) async -> Int32? {
        await terminateTimed(timeout: timeout).status
    }

    /// SIGTERM, then wait: the exit status (nil if it had to be killed) and the seconds from
    /// the signal to the end of the process, as the termination handler saw it.
    func terminateTimed(timeout: Double = 15) async -> (status: Int32?, seconds: Double) {
        guard process.isRunning else { return (process.terminationStatus, 0) }
        let sent = Date()
        Glibc.kill(process.processIdentifier, SIGTERM)
        let deadline = sent.addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline {
            try? await Task.sleep(nanoseconds: 50_000_000)
        }
        if process.isRunning {
            Glibc.kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return (nil, Date().timeIntervalSince(sent))
        }
        // The handler runs just after `isRunning` turns false; give it a moment.
        let handlerDeadline = Date().addingTimeInterval(5)
        var ended = exitedAt.withLock { $0 }
        while ended == nil && Date() < handlerDeadline {
            try? await Task.sleep(nanoseconds: 10_000_000)
            ended = exitedAt.withLock { $0 }
        }
        return (process.terminationStatus, (ended ?? Date()).timeIntervalSince(sent))
    }
}

/// Polls `check` until it returns a value, or fails after `timeout` seconds with `what`.
/// 60 s by default: CI runs the whole suite, a score of control planes, on two cores, and a
/// wait that takes 5 s alone has taken over 30 there.
func eventually<T>(_ what: String, timeout: Double = 60, _ check: () async throws -> T?) async throws -> T {
    let deadline = Date().addingTimeInterval(timeout)
    var lastError: (any Error)?
    while Date() < deadline {
        do {
            if let v = try await check() { return v }
        } catch {
            lastError = error
        }
        try await Task.sleep(nanoseconds: 100_000_000)
    }
    throw CommandError(description: "timed out after \(timeout)s waiting for \(what)\(lastError.map { " (last error: \($0))" } ?? "")")
}

/// `gateway`: the gateway's replicas, 0 by default (the agents sample, which most tests look
/// at); nil leaves the profile's default (a gateway in staging and production). `extra`'s
/// own `collector.gateway` wins.
func stackYAML(name: String, namespace: String, environment: String = "production", extra: String = "", gateway: Int? = 0) -> String {
    // A trace backend, so that sampling is part of the config.
    let exporters = "  exporters:\n    tempo:\n      endpoint: tempo.monitoring.svc:4317\n"
    var extra = extra.isEmpty || extra.hasSuffix("\n") ? extra : extra + "\n"
    if let gateway, !extra.contains("gateway:") {
        let line = "    gateway: {replicas: \(gateway)}\n"
        extra = extra.contains("  collector:\n") ? extra.replacingOccurrences(of: "  collector:\n", with: "  collector:\n" + line) : extra + "  collector:\n" + line
    }
    return """
    apiVersion: observability.vigil.dev/v1alpha1
    kind: ObservabilityStack
    metadata:
      name: \(name)
      namespace: \(namespace)
    spec:
      environment: \(environment)
    \(exporters)\(extra)
    """
}
