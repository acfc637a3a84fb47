import AsyncHTTPClient
import Foundation
import KubeModel
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL

/// A REST client for the Kubernetes API over AsyncHTTPClient: typed reads, paginated
/// lists, streamed watches, server-side apply, status, delete and events, with retries on
/// 429, 5xx and transport errors. Call `shutdown()` when done.
public final class KubeClient: Sendable {
    public let config: KubeConfig
    public let fieldManager: String
    let userAgent: String
    let retry: RetryPolicy
    let logger: Logger
    let http: HTTPClient
    /// A second client for watches, whose read timeout exceeds the server's watch timeout.
    let watchHTTP: HTTPClient
    let requestTimeout: TimeAmount
    let metrics: (any RequestMetrics)?
    /// Rate-limits the warnings of an API server that does not answer.
    public let throttle = LogThrottle()

    /// Replaces the client's retry policy for the requests made in a scope: leader election
    /// makes single attempts under its own deadline (`RetryPolicy.none`).
    @TaskLocal public static var retryOverride: RetryPolicy?

    public init(
        config: KubeConfig,
        fieldManager: String = "vigil",
        userAgent: String = "vigil",
        retry: RetryPolicy = RetryPolicy(),
        requestTimeout: TimeAmount = .seconds(30),
        metrics: (any RequestMetrics)? = nil,
        logger: Logger = Logger(label: "vigil.kubeclient")
    ) throws {
        self.config = config
        self.fieldManager = fieldManager
        self.userAgent = userAgent
        self.retry = retry
        self.logger = logger
        self.requestTimeout = requestTimeout
        self.metrics = metrics
        var tls = TLSConfiguration.makeClientConfiguration()
        if config.insecureSkipTLSVerify {
            tls.certificateVerification = .none
        } else if let ca = config.caPEM {
            do {
                tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
            } catch {
                throw KubeConfig.ConfigError("the cluster CA is not valid PEM: \(error)")
            }
        }
        if case .clientCertificate(let certPEM, let keyPEM) = config.credentials {
            do {
                tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certPEM).map { .certificate($0) }
                tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: keyPEM, format: .pem))
            } catch {
                throw KubeConfig.ConfigError("the client certificate or key is not valid PEM")
            }
        }
        var c = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(10), read: .seconds(60)))
        c.decompression = .disabled
        c.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: c)
        var wc = c
        wc.timeout = .init(connect: .seconds(10), read: .seconds(Int64(Self.maxWatchSeconds + 60)))
        wc.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        watchHTTP = HTTPClient(eventLoopGroupProvider: .singleton, configuration: wc)
    }

    /// Server-side watch timeouts are drawn from [min, max) like client-go's, so that
    /// watches of many informers do not all end at once.
    static let minWatchSeconds = 240
    static let maxWatchSeconds = 300

    public func shutdown() async throws {
        try await http.shutdown()
        try await watchHTTP.shutdown()
    }

    // MARK: - Typed operations

    public func get<T: KubeResource>(_ type: T.Type, namespace: String?, name: String) async throws -> T {
        let bytes = try await send("GET", T.resource.path(namespace: namespace, name: name))
        return try decode(T.self, bytes)
    }

    /// Every item, following `continue` tokens page by page. A `410` in the middle of
    /// paging (the token expired) restarts the list without pagination.
    public func list<T: KubeResource>(
        _ type: T.Type, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil, pageSize: Int = 500
    ) async throws -> KubeList<T> {
        try await list(T.self, resource: T.resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector, pageSize: pageSize)
    }

    public func list<T: MetadataBearing>(
        _ type: T.Type, resource: ResourceDescriptor, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil,
        pageSize: Int = 500
    ) async throws -> KubeList<T> {
        var items: [T] = []
        var cont: String? = nil
        var query: [(String, String)] = []
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        if let fieldSelector { query.append(("fieldSelector", fieldSelector)) }
        while true {
            var q = query
            q.append(("limit", String(pageSize)))
            if let cont { q.append(("continue", cont)) }
            let page: KubeList<T>
            do {
                page = try decode(KubeList<T>.self, try await send("GET", resource.path(namespace: namespace), query: q))
            } catch let e as KubeAPIError where e.isGone && cont != nil {
                logger.info("list continue token expired; listing again without pagination", metadata: ["resource": "\(resource)"])
                return try decode(KubeList<T>.self, try await send("GET", resource.path(namespace: namespace), query: query))
            }
            items.append(contentsOf: page.items)
            guard let next = page.metadata.continue, !next.isEmpty else {
                return KubeList(metadata: ListMeta(resourceVersion: page.metadata.resourceVersion), items: items)
            }
            cont = next
        }
    }

    /// What the API server sends for `metadataOnly` lists and watches: each object as a
    /// `PartialObjectMetadata` (no data, no spec).
    public static let metadataListAccept = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
    public static let metadataAccept = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"

    /// Lists page by page, handing each page to `onPage` and keeping none: memory holds one
    /// page at most. `metadataOnly` asks for each object's metadata alone. Returns the
    /// list's resourceVersion. A `410` in the middle of paging (the token expired) starts
    /// the list again from its first page.
    public func listPages<T: MetadataBearing>(
        _ type: T.Type, resource: ResourceDescriptor, namespace: String?, labelSelector: String? = nil, metadataOnly: Bool = false, pageSize: Int = 500,
        onPage: ([T]) async throws -> Void
    ) async throws -> String? {
        var cont: String? = nil
        var query: [(String, String)] = [("limit", String(pageSize))]
        if let labelSelector { query.append(("labelSelector", labelSelector)) }
        let accept = metadataOnly ? Self.metadataListAccept : "application/json"
        var restarts = 0
        while true {
            var q = query
            if let cont { q.append(("continue", cont)) }
            let page: KubeList<T>
            do {
                page = try decode(KubeList<T>.self, try await send("GET", resource.path(namespace: namespace), query: q, accept: accept))
            } catch let e as KubeAPIError where e.isGone && cont != nil && restarts < 3 {
                logger.info("list continue token expired; listing again from the first page", metadata: ["resource": "\(resource)"])
                restarts += 1
                cont = nil
                continue
            }
            try await onPage(page.items)
            guard let next = page.metadata.continue, !next.isEmpty else { return page.metadata.resourceVersion }
            cont = next
        }
    }

    /// Opens a watch from `resourceVersion`, with bookmarks. The stream ends when the
    /// server closes it (its timeout); an `ERROR` event is thrown as a `KubeAPIError`
    /// (`isGone` for 410). Cancelling the consuming task closes the connection.
    public func watch<T: KubeResource>(
        _ type: T.Type, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil, resourceVersion: String?,
        timeoutSeconds: Int? = nil
    ) async throws -> WatchStream<T> {
        try await watch(
            T.self, resource: T.resource, namespace: namespace, labelSelector: labelSelector, fieldSelector: fieldSelector,
            resourceVersion: resourceVersion, timeoutSeconds: timeoutSeconds
        )
    }

    public func watch<T: MetadataBearing>(
        _ type: T.Type, resource: ResourceDescriptor, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil,
        resourceVersion: String?, timeoutSeconds: Int? = nil, metadataOnly: Bool = false
    ) async throws -> WatchStream<T> {
        var q: [(String, String)] = [("watch", "true"), ("allowWatchBookmarks", "true")]
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        if let labelSelector { q.append(("labelSelector", labelSelector)) }
        if let fieldSelector { q.append(("fieldSelector", fieldSelector)) }
        let timeout = timeoutSeconds ?? Int.random(in: Self.minWatchSeconds..<Self.maxWatchSeconds)
        q.append(("timeoutSeconds", String(timeout)))
        let path = resource.path(namespace: namespace)
        let request = try makeRequest("GET", path, query: q, body: nil, contentType: nil, accept: metadataOnly ? Self.metadataAccept : "application/json")
        let response: HTTPClientResponse
        do {
            response = try await watchHTTP.execute(request, timeout: requestTimeout)
        } catch {
            metrics?.recordRequest(method: "WATCH", code: 0)
            throw KubeAPIError.transport(error, method: "WATCH", path: path)
        }
        metrics?.recordRequest(method: "WATCH", code: Int(response.status.code))
        guard response.status == .ok else {
            let body = try? await response.body.collect(upTo: 1 << 20)
            throw apiError(status: response.status, headers: response.headers, body: body.map { Array($0.readableBytesView) } ?? [], method: "WATCH", path: path)
        }
        return WatchStream(body: response.body, kind: resource.kind)
    }

    /// Server-side apply of a desired object: `PATCH` with `application/apply-patch+yaml`,
    /// this client's field manager, and `force` (Vigil owns the fields it sets).
    @discardableResult
    public func apply(_ object: JSONValue, resource: ResourceDescriptor, namespace: String?, name: String, subresource: String? = nil, dryRun: Bool = false) async throws -> JSONValue {
        var q: [(String, String)] = [("fieldManager", fieldManager), ("force", "true")]
        if dryRun { q.append(("dryRun", "All")) }
        let bytes = try await send(
            "PATCH", resource.path(namespace: namespace, name: name, subresource: subresource), query: q,
            body: try JSONCoding.encode(object), contentType: "application/apply-patch+yaml"
        )
        return try decode(JSONValue.self, bytes)
    }

    /// Server-side apply of a typed object.
    @discardableResult
    public func apply<T: KubeResource>(_ object: T, subresource: String? = nil, dryRun: Bool = false) async throws -> T {
        var o = object
        o.stampTypeMeta()
        var q: [(String, String)] = [("fieldManager", fieldManager), ("force", "true")]
        if dryRun { q.append(("dryRun", "All")) }
        let bytes = try await send(
            "PATCH", T.resource.path(namespace: o.metadata.namespace, name: o.metadata.name ?? "", subresource: subresource), query: q,
            body: try JSONCoding.encode(o), contentType: "application/apply-patch+yaml"
        )
        return try decode(T.self, bytes)
    }

    public func create<T: KubeResource>(_ object: T) async throws -> T {
        var o = object
        o.stampTypeMeta()
        let bytes = try await send("POST", T.resource.path(namespace: o.metadata.namespace), body: try JSONCoding.encode(o), contentType: "application/json")
        return try decode(T.self, bytes)
    }

    /// A merge patch (`application/merge-patch+json`).
    @discardableResult
    public func mergePatch(_ patch: JSONValue, resource: ResourceDescriptor, namespace: String?, name: String, subresource: String? = nil) async throws -> JSONValue {
        let bytes = try await send(
            "PATCH", resource.path(namespace: namespace, name: name, subresource: subresource),
            body: try JSONCoding.encode(patch), contentType: "application/merge-patch+json"
        )
        return try decode(JSONValue.self, bytes)
    }

    public enum PropagationPolicy: String, Sendable {
        case foreground = "Foreground"
        case background = "Background"
        case orphan = "Orphan"
    }

    /// Deletes an object. A missing object is not an error when `ignoreNotFound` is set.
    public func delete(resource: ResourceDescriptor, namespace: String?, name: String, propagation: PropagationPolicy = .background, ignoreNotFound: Bool = true) async throws {
        let body: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions", "propagationPolicy": .string(propagation.rawValue)]
        do {
            _ = try await send("DELETE", resource.path(namespace: namespace, name: name), body: try JSONCoding.encode(body), contentType: "application/json")
        } catch let e as KubeAPIError where e.isNotFound && ignoreNotFound {
            return
        }
    }

    /// A raw GET of a non-resource path such as `/metrics` or `/readyz`.
    public func getRaw(_ path: String) async throws -> [UInt8] {
        try await send("GET", path)
    }

    // MARK: - Transport

    func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        do {
            return try JSONCoding.decode(T.self, from: bytes)
        } catch {
            throw KubeAPIError(code: 0, reason: "Decode", message: "cannot decode \(T.self) from the server's answer: \(error)")
        }
    }

    func bearerToken() throws -> String? {
        switch config.credentials {
        case .token(let t): return t
        case .tokenFile(let path):
            guard let d = FileManager.default.contents(atPath: path), let t = String(data: d, encoding: .utf8) else {
                throw KubeAPIError(code: 0, reason: "Credentials", message: "cannot read the token file \(path)")
            }
            return t.trimmingCharacters(in: .whitespacesAndNewlines)
        default: return nil
        }
    }

    static let queryAllowed: CharacterSet = {
        var s = CharacterSet.alphanumerics
        s.insert(charactersIn: "-._~")
        return s
    }()

    func makeRequest(
        _ method: String, _ path: String, query: [(String, String)], body: [UInt8]?, contentType: String?, accept: String = "application/json"
    ) throws -> HTTPClientRequest {
        var url = config.server + path
        if !query.isEmpty {
            url += "?" + query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: Self.queryAllowed) ?? $0.1)" }.joined(separator: "&")
        }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        request.headers.add(name: "User-Agent", value: userAgent)
        request.headers.add(name: "Accept", value: accept)
        if let token = try bearerToken() {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType ?? "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        return request
    }

    /// One request with retries; returns the body of a 2xx answer.
    func send(
        _ method: String, _ path: String, query: [(String, String)] = [], body: [UInt8]? = nil, contentType: String? = nil, accept: String = "application/json"
    ) async throws -> [UInt8] {
        let retry = Self.retryOverride ?? self.retry
        var attempt = 0
        while true {
            attempt += 1
            do {
                let result = try await sendOnce(method, path, query: query, body: body, contentType: contentType, accept: accept)
                if attempt > 1 { throttle.reset("request") }
                return result
            } catch let e as KubeAPIError where e.isRetryable && attempt < retry.maxAttempts {
                let delay = retry.delay(afterAttempt: attempt, retryAfter: e.retryAfter, random: Double.random(in: 0..<1))
                // An unreachable or failing API server is worth a warning, once in a while.
                if let held = throttle.allow("request") {
                    logger.warning(
                        "API server request failed; retrying",
                        metadata: [
                            // The server's message is left out: only a transport failure's is
                            // known to carry nothing from a request body.
                            "method": "\(method)", "path": "\(path)", "code": "\(e.code)", "reason": "\(e.isTransport ? e.message.prefix(200) : Substring(e.reason))",
                            "attempt": "\(attempt)",
                            "retry_in_s": "\(Int(delay * 1000) / 1000)", "similar_warnings_held_back": "\(held)",
                        ]
                    )
                }
                try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
            }
        }
    }

    func sendOnce(
        _ method: String, _ path: String, query: [(String, String)], body: [UInt8]?, contentType: String?, accept: String = "application/json"
    ) async throws -> [UInt8] {
        let request = try makeRequest(method, path, query: query, body: body, contentType: contentType, accept: accept)
        let response: HTTPClientResponse
        let bytes: ByteBuffer
        do {
            response = try await http.execute(request, timeout: requestTimeout)
            bytes = try await response.body.collect(upTo: 256 << 20)
        } catch let e as CancellationError {
            throw e
        } catch {
            metrics?.recordRequest(method: method, code: 0)
            throw KubeAPIError.transport(error, method: method, path: path)
        }
        metrics?.recordRequest(method: method, code: Int(response.status.code))
        let body = Array(bytes.readableBytesView)
        guard (200..<300).contains(response.status.code) else {
            throw apiError(status: response.status, headers: response.headers, body: body, method: method, path: path)
        }
        return body
    }

    func apiError(status: HTTPResponseStatus, headers: HTTPHeaders, body: [UInt8], method: String, path: String) -> KubeAPIError {
        let retryAfter = headers.first(name: "Retry-After").flatMap(Double.init)
        if let s = try? JSONCoding.decode(KubeStatus.self, from: body), s.kind == "Status" {
            return KubeAPIError(
                code: s.code ?? Int(status.code), reason: s.reason ?? status.reasonPhrase, message: s.message ?? "",
                method: method, path: path, retryAfter: retryAfter
            )
        }
        let text = String(decoding: body.prefix(512), as: UTF8.self)
        return KubeAPIError(code: Int(status.code), reason: status.reasonPhrase, message: text, method: method, path: path, retryAfter: retryAfter)
    }
}

/// Counts requests by method and code (`rest_client_requests_total`).
public protocol RequestMetrics: Sendable {
    func recordRequest(method: String, code: Int)
}
