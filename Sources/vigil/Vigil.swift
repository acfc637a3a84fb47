import ArgumentParser
import Controller
import Foundation
import KubeClient
import KubeModel
import Logging
import Render
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

let vigilVersion = "0.1.0"

@main
struct Vigil: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil",
        abstract: "A Kubernetes operator for secure OpenTelemetry observability stacks.",
        subcommands: [Run.self, RenderCommand.self, Check.self, CRD.self, Version.self]
    )
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the operator.")

    @Option(help: "Path to a kubeconfig (default: $KUBECONFIG, in-cluster, then ~/.kube/config).")
    var kubeconfig: String?

    @Option(help: "kubeconfig context to use.")
    var context: String?

    @Option(help: "Watch only this namespace (default: all namespaces).")
    var namespace: String?

    @Option(help: "Concurrent reconciles.")
    var workers: Int = 2

    @Option(help: "Seconds between full resyncs (they write nothing when nothing changed).")
    var resyncPeriod: Double = 600

    @Option(help: "Seconds between looks at whether the Prometheus Operator's CRDs are served (PrometheusRule or ConfigMap).")
    var monitoringDiscoveryInterval: Double = 30

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: "Log format: text or json (one object per line).")
    var logFormat: String = "text"

    @Option(help: "Where /metrics is served (HOST:PORT, :PORT, or 0 for off).")
    var metricsBindAddress: String = ":8080"

    @Option(help: "Where /healthz and /readyz are served (HOST:PORT, :PORT, or 0 for off).")
    var healthProbeBindAddress: String = ":8081"

    @Flag(help: "Elect a leader on a Lease, so that several replicas can run and only one reconciles.")
    var leaderElect = false

    @Option(help: "Namespace of the leader Lease (default: the pod's own namespace in a cluster, else default).")
    var leaderElectionNamespace: String?

    @Option(help: "Name of the leader Lease.")
    var leaderElectionID: String = "vigil.observability.vigil.dev"

    @Option(help: "Seconds a standby waits, from the last renewal it saw, before it takes the lease over.")
    var leaderElectionLeaseDuration: Double = 15

    @Option(help: "Seconds the leader may go without a renewal before it stops leading (it then stands by and campaigns again).")
    var leaderElectionRenewDeadline: Double = 10

    @Option(help: "Seconds between lease attempts.")
    var leaderElectionRetryPeriod: Double = 2

    @OptionGroup(title: "What stacks may choose (operator policy)")
    var policy: PolicyOptions

    @Option(help: "Where the validating admission webhook is served over HTTPS (HOST:PORT, :PORT, or 0 for off). Every replica serves it, leader or not.")
    var webhookBindAddress: String = ":9443"

    @Option(help: "Serve the webhook with tls.crt and tls.key from this directory (for example a cert-manager Certificate's Secret, with its CA injector writing the caBundle), re-read when they change, instead of Vigil's own CA.")
    var webhookCertDir: String?

    @Option(help: "The operator's namespace, where the webhook's Secret and Service are (default: the pod's own namespace in a cluster, else --leader-election-namespace, else default).")
    var webhookNamespace: String?

    @Option(help: "The webhook Service: its names are the serving certificate's.")
    var webhookService: String = "vigil-webhook"

    @Option(help: "The Secret holding the webhook's CA and serving certificate.")
    var webhookSecret: String = "vigil-webhook-tls"

    @Option(help: "The ValidatingWebhookConfiguration whose caBundle Vigil writes (empty: none).")
    var webhookConfiguration: String = "vigil"

    @Option(name: .customLong("webhook-certificate-ips"), help: ArgumentHelp("Testing only: comma-separated IP addresses the webhook certificate also names (a webhook registered by URL).", visibility: .hidden))
    var webhookCertificateIPs: String = ""

    @Option(help: ArgumentHelp("Testing only: the webhook serving certificate's lifetime in seconds.", visibility: .hidden))
    var webhookCertificateSeconds: Double = 90 * 86400

    @Option(help: ArgumentHelp("Testing only: a file holding seconds to add to the clock, re-read on every use.", visibility: .hidden))
    var clockOffsetFile: String?

    @Flag(help: ArgumentHelp("Testing only: add a service that never stops, to prove the exit watchdog.", visibility: .hidden))
    var testingStuckShutdown = false

    func run() async throws {
        unblockTerminationSignals()
        guard let level = Logger.Level(rawValue: logLevel), ["text", "json"].contains(logFormat) else {
            FileHandle.standardError.write(Data("vigil: --log-level must be trace, debug, info, notice, warning, error or critical, and --log-format text or json\n".utf8))
            throw ExitCode(2)
        }
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var h = JSONLogHandler(label: label)
                h.logLevel = level
                return h
            }
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "vigil")
        let config: KubeConfig
        do {
            config = try KubeConfig.load(path: kubeconfig, context: context)
        } catch {
            logger.critical("cannot load cluster configuration", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        }
        let metricsAddress: (host: String, port: Int)?
        let probeAddress: (host: String, port: Int)?
        let webhookAddress: (host: String, port: Int)?
        do {
            metricsAddress = try HTTPEndpoint.parse(metricsBindAddress)
            probeAddress = try HTTPEndpoint.parse(healthProbeBindAddress)
            webhookAddress = try HTTPEndpoint.parse(webhookBindAddress)
        } catch {
            logger.critical("invalid flag", metadata: ["error": "\(error)"])
            throw ExitCode(2)
        }
        let metrics = OperatorMetrics()
        let client = try KubeClient(config: config, userAgent: "vigil/\(vigilVersion)", metrics: metrics, logger: logger)
        var elector: LeaderElector? = nil
        if leaderElect {
            guard leaderElectionRenewDeadline < leaderElectionLeaseDuration, leaderElectionRetryPeriod < leaderElectionRenewDeadline else {
                logger.critical("invalid flag", metadata: ["error": "leader election needs retry period < renew deadline < lease duration"])
                throw ExitCode(2)
            }
            let inCluster = try? String(contentsOfFile: "/var/run/secrets/kubernetes.io/serviceaccount/namespace", encoding: .utf8)
            let leaseNamespace = leaderElectionNamespace ?? inCluster?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "default"
            let host = ProcessInfo.processInfo.hostName
            var config = LeaderElector.Config(namespace: leaseNamespace, name: leaderElectionID, identity: "\(host)_\(UUID().uuidString.lowercased())")
            config.leaseDuration = leaderElectionLeaseDuration
            config.renewDeadline = leaderElectionRenewDeadline
            config.retryPeriod = leaderElectionRetryPeriod
            let id = leaderElectionID
            elector = LeaderElector(client: client, config: config, logger: logger) { leading in metrics.recordLeadership(name: id, leading: leading) }
        }
        var options = ControllerOptions(namespace: namespace, workers: workers, resyncPeriod: resyncPeriod, now: clock(offsetFile: clockOffsetFile))
        options.monitoringDiscoveryInterval = max(0.1, monitoringDiscoveryInterval)
        options.policy = policy.policy
        let controller = StackController(
            client: client,
            options: options,
            metrics: metrics,
            elector: elector,
            logger: logger
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: controller)]
        // The webhook's serving certificate, once loaded; nil while the webhook is off.
        let webhookTLS: WebhookTLS? = webhookAddress == nil ? nil : WebhookTLS()
        if let a = metricsAddress {
            let route: HTTPEndpoint.Route = { (200, "text/plain; version=0.0.4; charset=utf-8", controller.metricsText()) }
            services.append(.init(service: HTTPEndpoint(name: "metrics", host: a.host, port: a.port, routes: ["/metrics": route], logger: logger)))
        }
        if let a = probeAddress {
            let healthz: HTTPEndpoint.Route = { (200, "text/plain; charset=utf-8", Array("ok\n".utf8)) }
            // Ready once every cache has listed: before that, a reconcile would act on
            // a partial view.
            // and, with the webhook on, once it has a certificate to serve (the Service then
            // sends admission requests only to replicas that can answer them).
            let readyz: HTTPEndpoint.Route = {
                if !controller.hasSynced { return (503, "text/plain; charset=utf-8", Array("caches not synced\n".utf8)) }
                if let tls = webhookTLS, tls.serial == nil { return (503, "text/plain; charset=utf-8", Array("webhook certificate not loaded\n".utf8)) }
                return (200, "text/plain; charset=utf-8", Array("ok\n".utf8))
            }
            services.append(.init(service: HTTPEndpoint(name: "health probes", host: a.host, port: a.port, routes: ["/healthz": healthz, "/readyz": readyz], logger: logger)))
        }
        if let a = webhookAddress, let tls = webhookTLS {
            // Every replica serves admission, whether it leads or not.
            if let dir = webhookCertDir {
                let files = WebhookCertificateFiles(directory: dir, tls: tls, logger: logger)
                do {
                    _ = try files.load()
                } catch {
                    logger.critical("cannot read the webhook certificate", metadata: ["directory": "\(dir)", "error": "\(error)"])
                    throw ExitCode(2)
                }
                services.append(.init(service: files))
            } else {
                let inCluster = try? String(contentsOfFile: "/var/run/secrets/kubernetes.io/serviceaccount/namespace", encoding: .utf8)
                var certOptions = WebhookCertificates.Options(
                    namespace: webhookNamespace ?? inCluster?.trimmingCharacters(in: .whitespacesAndNewlines) ?? leaderElectionNamespace ?? "default")
                certOptions.serviceName = webhookService
                certOptions.secretName = webhookSecret
                certOptions.configurationName = webhookConfiguration.isEmpty ? nil : webhookConfiguration
                certOptions.extraIPAddresses = PolicyOptions.list(webhookCertificateIPs)
                certOptions.leafDuration = webhookCertificateSeconds
                services.append(.init(service: WebhookCertificates(client: client, options: certOptions, tls: tls, now: options.now, logger: logger)))
            }
            // The reconciler's own gate, for the Secrets a stack names.
            let gate = Gate(writer: client, policy: policy.policy)
            services.append(.init(service: WebhookServer(host: a.host, port: a.port, tls: tls, policy: policy.policy, gate: gate, now: options.now, logger: logger)))
        }
        if testingStuckShutdown { services.insert(.init(service: StuckService()), at: 0) }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        // Bounded exit: once asked to stop, the process is gone within the reconciles'
        // grace plus a margin, whatever a request or thread is still doing.
        let bound = options.shutdownTimeout + Self.exitMargin
        let watchdog = ExitWatchdog(after: bound, logger: logger)
        let status: Int32
        do {
            try await group.run()
            status = ExitStatus.requested
        } catch {
            logger.error("stopped with an error", metadata: ["error": "\(error)"])
            status = ExitStatus.failed
        }
        // Every HTTP client is shut down explicitly, but never waited on for long.
        let closed = try? await withDeadline(seconds: Self.clientShutdownSeconds, sleep: { try await Task.sleep(nanoseconds: UInt64(Self.clientShutdownSeconds * 1e9)) }) {
            try await client.shutdown()
            return true
        }
        if closed == nil { logger.warning("the API client did not shut down in time; exiting anyway") }
        logger.info("exiting", metadata: ["status": "\(status)"])
        withExtendedLifetime(watchdog) { exitNow(status) }
    }

    /// Seconds past the reconciles' grace before the watchdog ends the process.
    static let exitMargin = 5.0
    static let clientShutdownSeconds = 3.0
}

/// A service that ignores shutdown and cancellation alike (tests of the exit watchdog).
/// Once asked to stop (or cancelled) it wedges every thread of the Swift concurrency pool
/// in a blocking call, as a stuck library would: only a watchdog that does not need the
/// pool can then end the process.
struct StuckService: Service {
    func run() async throws {
        try? await gracefulShutdown()
        await withTaskGroup(of: Void.self) { threads in
            for _ in 0..<(2 * ProcessInfo.processInfo.activeProcessorCount) {
                threads.addTask { while true { sleep(3600) } }
            }
        }
    }
}

/// Exit statuses of `vigil run`.
enum ExitStatus {
    /// Asked to stop (SIGTERM, SIGINT), and stopped cleanly.
    static let requested: Int32 = 0
    /// Stopped by an error (a service failed).
    static let failed: Int32 = 1
    /// Asked to stop, but something did not finish within the bound: ended by the watchdog.
    static let forced: Int32 = 3
}

/// Ends the process `seconds` after each SIGTERM or SIGINT, if it is still here: the
/// bound on a shutdown, whatever a request, a service or a thread is still doing. It runs
/// on Dispatch's own threads (a signal source and a timer on a serial queue), not on the
/// Swift concurrency pool, so a pool kept busy (a stuck service, blocked threads, a
/// loaded machine) cannot delay it; the integration tests once saw a pool-based watchdog
/// due at 15 s end the process at 24.5 s.
final class ExitWatchdog {
    private let sources: [any DispatchSourceSignal]

    init(after seconds: Double, logger: Logger) {
        let queue = DispatchQueue(label: "vigil.exit-watchdog")
        sources = [SIGTERM, SIGINT].map { signalNumber in
            // A signal source needs the signal's default action off; the service group's
            // own handler (graceful shutdown) sets the same.
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: queue)
            source.setEventHandler {
                // Each signal arms its own deadline; the first one due ends the process.
                queue.asyncAfter(deadline: .now() + seconds) {
                    logger.critical("shutdown did not finish within \(seconds)s; exiting", metadata: ["status": "\(ExitStatus.forced)"])
                    exitNow(ExitStatus.forced)
                }
            }
            source.resume()
            return source
        }
    }

    deinit { sources.forEach { $0.cancel() } }
}

/// Ends the process now with `status`, after flushing what was written: no thread that
/// nobody owns (an event loop, a pool) can keep it alive, and no exit handler runs that
/// could wait on a lock such a thread holds (`_exit`, not `exit`).
func exitNow(_ status: Int32) -> Never {
    fflush(nil)
    _exit(status)
}

/// The wall clock, shifted by the seconds in `offsetFile` when one is given (integration
/// tests of rotations that take months).
func clock(offsetFile: String?) -> @Sendable () -> Date {
    guard let offsetFile else { return { Date() } }
    return {
        let text = (try? String(contentsOfFile: offsetFile, encoding: .utf8)) ?? "0"
        return Date().addingTimeInterval(Double(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
    }
}

/// A parent may start Vigil with SIGTERM blocked (Foundation's Process does); Vigil must
/// still stop on it.
func unblockTerminationSignals() {
    #if canImport(Glibc)
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGTERM)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    #endif
}

struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "render", abstract: "Render a stack file to plain YAML, with no cluster.")

    @Option(name: .shortAndLong, help: "The ObservabilityStack YAML file (- for standard input).")
    var file: String

    @Option(name: .shortAndLong, help: "Write one file per object into this directory instead of standard output.")
    var output: String?

    @OptionGroup(title: "What stacks may choose (operator policy; pass what the operator runs with)")
    var policy: PolicyOptions

    func run() throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data, let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read \(file)")
        }
        let files: [StackFile.RenderedFile]
        do {
            files = try StackFile.renderFiles(text, policy: policy.policy)
        } catch {
            FileHandle.standardError.write(Data("vigil render: \(error)\n".utf8))
            throw ExitCode(1)
        }
        guard let output else {
            print(files.map { "---\n" + $0.yaml }.joined(), terminator: "")
            return
        }
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        for f in files {
            try Data(f.yaml.utf8).write(to: URL(fileURLWithPath: output).appendingPathComponent(f.name))
        }
    }
}

/// The operator policy's flags, shared by `vigil run` and `vigil render`.
struct PolicyOptions: ParsableArguments {
    @Option(help: "The collector image a stack runs when it names none (pin it by digest).")
    var collectorImage: String = defaultCollectorImage

    @Option(help: "Comma-separated images a stack may name besides the default.")
    var allowedCollectorImages: String = ""

    @Option(help: "Comma-separated taint keys a stack may tolerate; * allows any toleration, including one of every taint.")
    var allowedTolerationKeys: String = ""

    @Option(help: "Comma-separated node label keys a stack may select on; * allows any.")
    var allowedNodeSelectorKeys: String = OperatorPolicy.standardNodeSelectorKeys.joined(separator: ",")

    @Option(help: "The PriorityClass of every stack's agents (for example system-node-critical); stacks cannot choose one.")
    var collectorPriorityClass: String?

    @Option(help: "The namespace the cluster's Prometheus, Alertmanager and Grafana run in: collectors admit scrapes from it unless a stack names its scrapers, and default addresses point there.")
    var monitoringNamespace: String = "monitoring"

    @Option(help: "Comma-separated key=value labels on every stack's PrometheusRule and ServiceMonitor, for the cluster's Prometheus selectors (kube-prometheus-stack: release=<its release>).")
    var monitoringLabels: String = ""

    func validate() throws { _ = try labels() }

    /// `--monitoring-labels`, as a map; a malformed entry is an error naming it.
    func labels() throws -> [String: String] {
        var out: [String: String] = [:]
        for item in Self.list(monitoringLabels) {
            let kv = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard kv.count == 2, !kv[0].isEmpty else { throw ValidationError("--monitoring-labels: \"\(item)\" is not key=value") }
            out[kv[0]] = kv[1]
        }
        return out
    }

    static func list(_ s: String) -> [String] {
        s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    var policy: OperatorPolicy {
        OperatorPolicy(
            defaultImage: collectorImage, allowedImages: Self.list(allowedCollectorImages), allowedTolerationKeys: Self.list(allowedTolerationKeys),
            allowedNodeSelectorKeys: Self.list(allowedNodeSelectorKeys), agentPriorityClass: collectorPriorityClass.flatMap { $0.isEmpty ? nil : $0 },
            monitoringLabels: (try? labels()) ?? [:], monitoringNamespace: monitoringNamespace
        )
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a file of stacks offline, as the admission webhook and the reconciler would: every field error and what the collector would refuse; exit 1 on any.")

    @Option(name: .shortAndLong, help: "The ObservabilityStack YAML file (- for standard input).")
    var file: String

    @Option(name: .shortAndLong, help: "text (a line per problem) or json (an object per document, for tools).")
    var output: String = "text"

    @OptionGroup(title: "What stacks may choose (operator policy; pass what the operator runs with)")
    var policy: PolicyOptions

    func validate() throws {
        guard ["text", "json"].contains(output) else { throw ValidationError("--output must be text or json") }
    }

    func run() throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data, let text = String(data: data, encoding: .utf8) else { throw ValidationError("cannot read \(file)") }
        let documents: [(number: Int, stack: Result<ObservabilityStack, StackFile.Problem>)]
        do {
            documents = try StackFile.documents(text)
        } catch {
            FileHandle.standardError.write(Data("vigil check: \(file) is not YAML: \(error)\n".utf8))
            throw ExitCode(1)
        }
        var failed = false
        var out = ""
        var json: [JSONValue] = []
        for (number, result) in documents {
            let stack: ObservabilityStack
            switch result {
            case .failure(let problem):
                failed = true
                out += "document \(number): \(problem)\n"
                json.append(["document": .int(number), "allowed": false, "errors": [["field": "", "message": .string(problem.description)]]])
                continue
            case .success(let s): stack = s
            }
            let key = "document \(number) (\(Self.printable(stack.metadata.namespace ?? "default"))/\(Self.printable(stack.metadata.name ?? "")))"
            let verdict = StackAdmission.verdict(stack, policy: policy.policy)
            json.append([
                "document": .int(number), "namespace": .string(stack.metadata.namespace ?? "default"), "name": .string(stack.metadata.name ?? ""),
                "allowed": .bool(verdict.allowed),
                "errors": .array(verdict.errors.map { ["field": .string($0.field), "message": .string($0.message)] }),
                "configProblems": .array(verdict.configProblems.map(JSONValue.string)), "warnings": .array(verdict.warnings.map(JSONValue.string)),
            ])
            for w in verdict.warnings { out += "\(key): warning: \(w)\n" }
            if verdict.allowed {
                out += "\(key): ok\n"
            } else {
                failed = true
                for p in verdict.problems { out += "\(key): \(p)\n" }
            }
        }
        if documents.isEmpty { out += "no ObservabilityStack in \(file)\n" }
        if output == "json" {
            FileHandle.standardOutput.write(Data(try JSONCoding.encode(JSONValue.array(json))))
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(out.utf8))
        }
        if failed { throw ExitCode(1) }
    }
}

extension Check {
    /// A name as one line of text: control characters (a hostile name's newlines) escaped.
    static func printable(_ s: String) -> String {
        String(s.unicodeScalars.flatMap { $0.properties.generalCategory == .control ? Array("\\u{\(String($0.value, radix: 16))}".unicodeScalars) : [$0] }.map(Character.init))
    }
}

struct CRD: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crd", abstract: "Print the ObservabilityStack CustomResourceDefinition.")

    func run() throws {
        print(try YAMLText.document(StackCRD.definition), terminator: "")
    }
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the version.")
    func run() throws { print("vigil \(vigilVersion)") }
}
