import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A tiny HTTP/1.1 server on loopback that answers from a script, for testing the client's
/// retries and headers without an API server.
final class TestServer: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }
    struct Response: Sendable {
        var status: Int
        var headers: [(String, String)] = []
        var body: String
    }

    let requests = Mutex<[Request]>([])
    let respond: @Sendable (Request, Int) -> Response
    let channel: any Channel
    let group: MultiThreadedEventLoopGroup

    var port: Int { channel.localAddress!.port! }
    var url: String { "http://127.0.0.1:\(port)" }

    init(respond: @escaping @Sendable (Request, Int) -> Response) async throws {
        self.respond = respond
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        self.group = group
        let holder = HandlerBox()
        channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { ch in
                ch.pipeline.configureHTTPServerPipeline().flatMap {
                    ch.pipeline.addHandler(Handler(box: holder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        holder.server.withLock { $0 = self }
    }

    func shutdown() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    final class HandlerBox: Sendable {
        let server = Mutex<TestServer?>(nil)
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let box: HandlerBox
        var head: HTTPRequestHead?

        init(box: HandlerBox) { self.box = box }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h
            case .body: break
            case .end:
                guard let head, let server = box.server.withLock({ $0 }) else { return }
                let req = Request(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) })
                let n = server.requests.withLock { r -> Int in
                    r.append(req)
                    return r.count
                }
                let resp = server.respond(req, n)
                var headers = HTTPHeaders(resp.headers)
                headers.add(name: "Content-Length", value: String(resp.body.utf8.count))
                headers.add(name: "Content-Type", value: "application/json")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: resp.status), headers: headers))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: resp.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
