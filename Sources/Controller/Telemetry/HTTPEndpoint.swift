import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import ServiceLifecycle

/// A small HTTP/1.1 server for `/metrics`, `/healthz` and `/readyz`, as a `Service`.
/// `routes` maps a path to its status and body, computed per request.
public final class HTTPEndpoint: Service, Sendable {
    /// A route's answer: the HTTP status code, the content type and the body.
    public typealias Route = @Sendable () -> (status: Int, contentType: String, body: [UInt8])

    let host: String
    let port: Int
    let name: String
    let routes: [String: Route]
    let logger: Logger
    /// Called with the bound port once listening (tests bind port 0).
    let onBound: @Sendable (Int) -> Void

    public init(name: String, host: String, port: Int, routes: [String: Route], logger: Logger, onBound: @escaping @Sendable (Int) -> Void = { _ in }) {
        self.name = name
        self.host = host
        self.port = port
        self.routes = routes
        self.logger = logger
        self.onBound = onBound
    }

    /// Parses controller-runtime's bind address: `:8080`, `127.0.0.1:8080`, or `0` (off).
    public static func parse(_ address: String) throws -> (host: String, port: Int)? {
        if address == "0" || address.isEmpty { return nil }
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationFailure(description: "not a bind address (HOST:PORT, :PORT or 0): \(address)")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    public struct ValidationFailure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    public func run() async throws {
        let routes = self.routes
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(routes: routes))
                }
            }
            .bind(host: host, port: port)
            .get()
        let bound = channel.localAddress?.port ?? port
        logger.info("serving \(name)", metadata: ["address": "\(host):\(bound)", "paths": "\(routes.keys.sorted().joined(separator: ","))"])
        onBound(bound)
        await withGracefulShutdownHandler {
            try? await channel.closeFuture.get()
        } onGracefulShutdown: {
            channel.close(promise: nil)
        }
    }

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let routes: [String: Route]
        init(routes: [String: Route]) { self.routes = routes }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(let head) = unwrapInboundIn(data) else { return }
            let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
            var (code, type, body): (Int, String, [UInt8])
            if let route = routes[path], head.method == .GET || head.method == .HEAD {
                (code, type, body) = route()
            } else {
                (code, type, body) = (404, "text/plain; charset=utf-8", Array("not found\n".utf8))
            }
            let status = HTTPResponseStatus(statusCode: code)
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: type)
            headers.add(name: "Content-Length", value: String(body.count))
            headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            if head.method != .HEAD {
                var buffer = context.channel.allocator.buffer(capacity: body.count)
                buffer.writeBytes(body)
                context.write(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
            }
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }
}
