import KubeModel

/// Every error of a request to the API server: the server's `Status` (code, reason,
/// message) or a transport failure (code 0). Never carries a credential or a request body.
public struct KubeAPIError: Error, Sendable, Hashable, CustomStringConvertible {
    /// HTTP status code; 0 for a transport error (no response).
    public var code: Int
    /// The server's `Status.reason` (`NotFound`, `Conflict`, `Expired`, ...) or `Transport`.
    public var reason: String
    public var message: String
    public var method: String
    public var path: String
    /// Seconds the server asked to wait (`Retry-After`), if any.
    public var retryAfter: Double?

    public init(code: Int, reason: String, message: String, method: String = "", path: String = "", retryAfter: Double? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.method = method
        self.path = path
        self.retryAfter = retryAfter
    }

    public var description: String {
        let where_ = method.isEmpty ? "" : "\(method) \(path): "
        return code == 0 ? "\(where_)\(message)" : "\(where_)\(code) \(reason): \(message)"
    }

    public var isNotFound: Bool { code == 404 }
    public var isConflict: Bool { code == 409 && reason != "AlreadyExists" }
    public var isAlreadyExists: Bool { code == 409 && reason == "AlreadyExists" }
    /// `410 Gone`: the resourceVersion is too old; list again.
    public var isGone: Bool { code == 410 || reason == "Expired" || reason == "Gone" }
    public var isTransport: Bool { code == 0 }

    /// 429, 5xx and transport errors may succeed when tried again; 4xx validation errors never do.
    public var isRetryable: Bool { code == 0 || code == 429 || code >= 500 }

    static func transport(_ error: any Error, method: String, path: String) -> KubeAPIError {
        KubeAPIError(code: 0, reason: "Transport", message: "\(error)", method: method, path: path)
    }
}

/// The result of `request`, or nil where the API server answers 404: the one way Vigil
/// reads an object that may not exist.
public func ifExists<T>(_ request: () async throws -> T) async throws -> T? {
    do {
        return try await request()
    } catch let e as KubeAPIError where e.isNotFound {
        return nil
    }
}
