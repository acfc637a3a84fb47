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
        subcommands: [Run.self, RenderCommand.self, CRD.self, Version.self]
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

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: String = "info"

    @Option(help: ArgumentHelp("Testing only: a file holding seconds to add to the clock, re-read on every use.", visibility: .hidden))
    var clockOffsetFile: String?

    func run() async throws {
        unblockTerminationSignals()
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
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
        let client = try KubeClient(config: config, userAgent: "vigil/\(vigilVersion)", logger: logger)
        let controller = StackController(
            client: client,
            options: ControllerOptions(namespace: namespace, workers: workers, resyncPeriod: resyncPeriod, now: clock(offsetFile: clockOffsetFile)),
            logger: logger
        )
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: controller)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        do {
            try await group.run()
        } catch {
            logger.error("stopped with an error", metadata: ["error": "\(error)"])
        }
        try await client.shutdown()
    }
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

    func run() throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data, let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read \(file)")
        }
        let files: [StackFile.RenderedFile]
        do {
            files = try StackFile.renderFiles(text)
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
