import Foundation
import KubeModel
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Render
import ServiceLifecycle
import Synchronization

/// The serving certificate of the admission webhook, swapped while the server runs: each
/// new connection takes the current one, so a renewed certificate serves at once and no
/// connection is dropped for it.
public final class WebhookTLS: Sendable {
    let state = Mutex<(context: NIOSSLContext, serial: String)?>(nil)

    public init() {}

    /// Serves `certificatePEM` (leaf first, then any intermediates) with `keyPEM` from now on.
    public func update(certificatePEM: String, keyPEM: String) throws {
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(certificatePEM.utf8))
        let key = try NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem)
        var config = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        config.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: config)
        let serial = chain.first.map { $0.serialNumber.map { String(format: "%02x", $0) }.joined() } ?? ""
        state.withLock { $0 = (context, serial) }
    }

    var context: NIOSSLContext? { state.withLock { $0?.context } }
    /// The serial (hex) of the certificate served now, for logs and tests.
    public var serial: String? { state.withLock { $0?.serial } }
}

/// The validating admission webhook for ObservabilityStacks: HTTPS, `POST /validate`,
/// `admission.k8s.io/v1` AdmissionReview in and out. A stack is judged by `StackAdmission`
/// (the spec, the operator's policy, the rendered config), then, where the webhook has the
/// cluster to ask, by the reconciler's own gate for what only the cluster knows (the
/// Secrets the spec names). Every replica serves it, leader or not. Connections arriving
/// before a certificate is loaded are closed (the API server applies its failure policy).
/// Each connection is a child task of the server's task group: nothing outlives it.
public final class WebhookServer: Service, Sendable {
    public static let path = "/validate"
    /// The largest request body read (an object is at most about 1.5 MiB in etcd).
    static let maxBody = 8 * 1024 * 1024

    let host: String
    let port: Int
    let tls: WebhookTLS
    let policy: OperatorPolicy
    /// The reconciler's gate, for the Secrets a stack names; nil judges the spec alone.
    let gate: Gate?
    let now: @Sendable () -> Date
    let logger: Logger
    let onBound: @Sendable (Int) -> Void

    public init(
        host: String, port: Int, tls: WebhookTLS, policy: OperatorPolicy, gate: Gate? = nil, now: @escaping @Sendable () -> Date = { Date() }, logger: Logger,
        onBound: @escaping @Sendable (Int) -> Void = { _ in }
    ) {
        self.host = host
        self.port = port
        self.tls = tls
        self.policy = policy
        self.gate = gate
        self.now = now
        self.logger = logger
        self.onBound = onBound
    }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    public func run() async throws {
        let tls = self.tls
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel -> EventLoopFuture<Connection> in
                guard let context = tls.context else {
                    return channel.eventLoop.makeFailedFuture(WebhookNotReady())
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        let bound = server.channel.localAddress?.port ?? port
        logger.info("serving the admission webhook", metadata: ["address": "\(host):\(bound)", "path": "\(Self.path)"])
        onBound(bound)
        try? await cancelWhenGracefulShutdown {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        }
    }

    struct WebhookNotReady: Error {}

    /// One connection: requests in order, each answered before the next is read.
    func serve(_ connection: Connection) async {
        try? await connection.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body: [UInt8] = []
            var tooLarge = false
            for try await part in inbound {
                switch part {
                case .head(let h):
                    head = h
                    body = []
                    tooLarge = false
                case .body(var buffer):
                    if body.count + buffer.readableBytes > Self.maxBody {
                        tooLarge = true
                    } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                        body += bytes
                    }
                case .end:
                    guard let h = head else { continue }
                    let (code, bytes) = await answer(h, body: body, tooLarge: tooLarge)
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: code == 200 ? "application/json" : "text/plain; charset=utf-8")
                    headers.add(name: "Content-Length", value: String(bytes.count))
                    try await outbound.write(.head(HTTPResponseHead(version: h.version, status: HTTPResponseStatus(statusCode: code), headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: bytes))))
                    try await outbound.write(.end(nil))
                    head = nil
                    body = []
                }
            }
        }
    }

    func answer(_ head: HTTPRequestHead, body: [UInt8], tooLarge: Bool) async -> (Int, [UInt8]) {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
        if path == "/healthz", head.method == .GET { return (200, Array("ok\n".utf8)) }
        guard path == Self.path else { return (404, Array("not found\n".utf8)) }
        guard head.method == .POST else { return (405, Array("POST an AdmissionReview\n".utf8)) }
        guard !tooLarge else { return (413, Array("request too large\n".utf8)) }
        guard let review = try? JSONValue.parse(body) else { return (400, Array("not JSON\n".utf8)) }
        let response: JSONValue
        switch StackAdmission.request(review) {
        case .answered(let r): response = r
        case .judge(let uid, let stack): response = StackAdmission.response(uid: uid, stack: stack, verdict: await judge(stack))
        }
        let req = review["request"]
        logger.info(
            "admission review",
            metadata: [
                "operation": "\(req?["operation"]?.stringValue ?? "")",
                "stack": "\(req?["namespace"]?.stringValue ?? "")/\(req?["name"]?.stringValue ?? "")",
                "allowed": "\(response["response"]?["allowed"] == true)",
            ])
        return (200, (try? JSONCoding.encode(response)) ?? Array("{}".utf8))
    }

    /// The spec's verdict; for a stack it admits, the gate's word on the Secrets it names
    /// (the same check and message as the reconciler's). A gate that cannot read them (the
    /// API server errs) admits with a warning: the reconciler checks them again.
    func judge(_ stack: ObservabilityStack) async -> StackVerdict {
        var v = StackAdmission.verdict(stack, policy: policy)
        guard v.allowed, let gate else { return v }
        do {
            if case .failure(let rejected) = try await gate.admit(stack, now: now()) {
                v.clusterProblems.append(rejected.refusal.message)
            }
        } catch {
            v.warnings.append("the Secrets this stack names could not be checked now (\(error)); Vigil checks them when it reconciles")
        }
        return v
    }
}
