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
/// `admission.k8s.io/v1` AdmissionReview in and out, judged by `StackAdmission` (the
/// reconciler's own validation). It reads nothing of the cluster, so every replica serves
/// it whether or not it leads. Connections arriving before a certificate is loaded are
/// closed (the API server retries them per its failure policy).
public final class WebhookServer: Service, Sendable {
    public static let path = "/validate"
    /// The largest request body read (an object is at most about 1.5 MiB in etcd).
    static let maxBody = 8 * 1024 * 1024

    let host: String
    let port: Int
    let tls: WebhookTLS
    let policy: OperatorPolicy
    let logger: Logger
    let onBound: @Sendable (Int) -> Void

    public init(host: String, port: Int, tls: WebhookTLS, policy: OperatorPolicy, logger: Logger, onBound: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.host = host
        self.port = port
        self.tls = tls
        self.policy = policy
        self.logger = logger
        self.onBound = onBound
    }

    public func run() async throws {
        let tls = self.tls
        let policy = self.policy
        let logger = self.logger
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                guard let context = tls.context else { return channel.close() }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(policy: policy, logger: logger))
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = channel.localAddress?.port ?? port
        logger.info("serving the admission webhook", metadata: ["address": "\(host):\(bound)", "path": "\(Self.path)"])
        onBound(bound)
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let policy: OperatorPolicy
        let logger: Logger
        var head: HTTPRequestHead?
        var body: [UInt8] = []
        var tooLarge = false

        init(policy: OperatorPolicy, logger: Logger) {
            self.policy = policy
            self.logger = logger
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = []
                tooLarge = false
            case .body(var buffer):
                if body.count + buffer.readableBytes > WebhookServer.maxBody {
                    tooLarge = true
                } else if let bytes = buffer.readBytes(length: buffer.readableBytes) {
                    body += bytes
                }
            case .end:
                guard let head else { return }
                let (code, bytes) = answer(head)
                respond(context: context, head: head, code: code, body: bytes)
                self.head = nil
                body = []
            }
        }

        func answer(_ head: HTTPRequestHead) -> (Int, [UInt8]) {
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? ""
            if path == "/healthz", head.method == .GET { return (200, Array("ok\n".utf8)) }
            guard path == WebhookServer.path else { return (404, Array("not found\n".utf8)) }
            guard head.method == .POST else { return (405, Array("POST an AdmissionReview\n".utf8)) }
            guard !tooLarge else { return (413, Array("request too large\n".utf8)) }
            guard let request = try? JSONValue.parse(body) else { return (400, Array("not JSON\n".utf8)) }
            let response = StackAdmission.review(request, policy: policy)
            let allowed = response["response"]?["allowed"] == true
            let req = request["request"]
            logger.info(
                "admission review",
                metadata: [
                    "operation": "\(req?["operation"]?.stringValue ?? "")",
                    "stack": "\(req?["namespace"]?.stringValue ?? "")/\(req?["name"]?.stringValue ?? "")",
                    "allowed": "\(allowed)",
                ])
            return (200, (try? JSONCoding.encode(response)) ?? Array("{}".utf8))
        }

        func respond(context: ChannelHandlerContext, head: HTTPRequestHead, code: Int, body: [UInt8]) {
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: code == 200 && body.first == UInt8(ascii: "{") ? "application/json" : "text/plain; charset=utf-8")
            headers.add(name: "Content-Length", value: String(body.count))
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: code), headers: headers))), promise: nil)
            var buffer = context.channel.allocator.buffer(capacity: body.count)
            buffer.writeBytes(body)
            context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
