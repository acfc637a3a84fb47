import Foundation
import KubeClient
import KubeModel
import Synchronization
import Testing

@Suite struct KubeClientRetryTests {
    static let configMapJSON = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"n","resourceVersion":"7"},"data":{"k":"v"}}"#

    func status(_ code: Int, _ reason: String, _ message: String) -> String {
        #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"\#(message)","reason":"\#(reason)","code":\#(code)}"#
    }

    @Test func throttlingAndServerErrorsAreRetriedHonouringRetryAfter() async throws {
        let server = try await TestServer { _, n in
            switch n {
            case 1: return .init(status: 429, headers: [("Retry-After", "1")], body: status(429, "TooManyRequests", "slow down"))
            case 2: return .init(status: 503, body: status(503, "ServiceUnavailable", "busy"))
            default: return .init(status: 200, body: Self.configMapJSON)
            }
        }
        let client = try KubeClient(config: KubeConfig(server: server.url, credentials: .token("t0k")), userAgent: "vigil/test", retry: RetryPolicy(maxAttempts: 5, baseDelay: 0.01, maxDelay: 0.05))
        let start = Date()
        let cm = try await client.get(ConfigMap.self, namespace: "n", name: "x")
        let elapsed = Date().timeIntervalSince(start)
        #expect(cm.data == ["k": "v"])
        #expect(server.requests.withLock { $0.count } == 3)
        #expect(elapsed >= 0.95, "Retry-After: 1 was not honoured (\(elapsed) s)")
        let first = try #require(server.requests.withLock { $0.first })
        #expect(first.header("User-Agent") == "vigil/test")
        #expect(first.header("Authorization") == "Bearer t0k")
        #expect(first.uri == "/api/v1/namespaces/n/configmaps/x")
        try await client.shutdown()
        try await server.shutdown()
    }

    /// A BOOKMARK event carries only metadata: a typed watch (a stack has a required spec)
    /// skips it and keeps its resourceVersion, instead of failing to decode it.
    @Test func aTypedWatchSkipsBookmarksAndKeepsTheirVersion() async throws {
        let stack = #"{"type":"ADDED","object":{"apiVersion":"observability.vigil.dev/v1alpha1","kind":"ObservabilityStack","metadata":{"name":"s","namespace":"n","resourceVersion":"41"},"spec":{"environment":"development"}}}"#
        let bookmark = #"{"type":"BOOKMARK","object":{"kind":"ObservabilityStack","apiVersion":"observability.vigil.dev/v1alpha1","metadata":{"resourceVersion":"42"}}}"#
        let server = try await TestServer { _, _ in .init(status: 200, body: stack + "\n" + bookmark + "\n") }
        let client = try KubeClient(config: KubeConfig(server: server.url))
        let stream = try await client.watch(ObservabilityStack.self, namespace: "n", resourceVersion: "40", timeoutSeconds: 5)
        var events = stream.makeAsyncIterator()
        var names: [String] = []
        while let event = try await events.next() { names.append(event.object.metadata.name ?? "") }
        #expect(names == ["s"])
        #expect(events.resourceVersion == "42")
        try await client.shutdown()
        try await server.shutdown()
    }

    @Test func validationErrorsAreNeverRetriedAndCarryTheServerStatus() async throws {
        let server = try await TestServer { _, _ in
            .init(status: 422, body: status(422, "Invalid", "spec.sampling.percentage: Invalid value"))
        }
        let client = try KubeClient(config: KubeConfig(server: server.url), retry: RetryPolicy(maxAttempts: 5, baseDelay: 0.01))
        await #expect {
            try await client.apply(["kind": "ConfigMap"], resource: ConfigMap.resource, namespace: "n", name: "x")
        } throws: { error in
            guard let e = error as? KubeAPIError else { return false }
            return e.code == 422 && e.reason == "Invalid" && e.message.contains("spec.sampling.percentage") && e.method == "PATCH"
        }
        #expect(server.requests.withLock { $0.count } == 1)
        let req = try #require(server.requests.withLock { $0.first })
        #expect(req.uri == "/api/v1/namespaces/n/configmaps/x?fieldManager=vigil&force=true")
        #expect(req.header("Content-Type") == "application/apply-patch+yaml")
        try await client.shutdown()
        try await server.shutdown()
    }

    @Test func retriesStopAfterTheLastAttempt() async throws {
        let server = try await TestServer { _, _ in .init(status: 500, body: status(500, "InternalError", "boom")) }
        let client = try KubeClient(config: KubeConfig(server: server.url), retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.01))
        await #expect(throws: KubeAPIError.self) { try await client.get(ConfigMap.self, namespace: "n", name: "x") }
        #expect(server.requests.withLock { $0.count } == 3)
        try await client.shutdown()
        try await server.shutdown()
    }

    @Test func aTokenFileIsReadAgainForEveryRequest() async throws {
        let server = try await TestServer { _, _ in .init(status: 200, body: Self.configMapJSON) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("token-\(UUID().uuidString)").path
        try "first\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let client = try KubeClient(config: KubeConfig(server: server.url, credentials: .tokenFile(path)))
        _ = try await client.get(ConfigMap.self, namespace: "n", name: "x")
        try "second\n".write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await client.get(ConfigMap.self, namespace: "n", name: "x")
        let tokens = server.requests.withLock { $0.map { $0.header("Authorization") } }
        #expect(tokens == ["Bearer first", "Bearer second"])
        try await client.shutdown()
        try await server.shutdown()
    }

    @Test func listFollowsContinueTokens() async throws {
        let server = try await TestServer { req, _ in
            if req.uri.contains("continue=page2") {
                return .init(status: 200, body: #"{"metadata":{"resourceVersion":"20"},"items":[{"metadata":{"name":"c","namespace":"n"}}]}"#)
            }
            return .init(status: 200, body: #"{"metadata":{"resourceVersion":"10","continue":"page2"},"items":[{"metadata":{"name":"a","namespace":"n"}},{"metadata":{"name":"b","namespace":"n"}}]}"#)
        }
        let client = try KubeClient(config: KubeConfig(server: server.url))
        let list = try await client.list(ConfigMap.self, namespace: "n", labelSelector: "a=b,c in (d)", pageSize: 2)
        #expect(list.items.map { $0.metadata.name } == ["a", "b", "c"])
        #expect(list.metadata.resourceVersion == "20")
        let uris = server.requests.withLock { $0.map(\.uri) }
        #expect(uris.first == "/api/v1/namespaces/n/configmaps?labelSelector=a%3Db%2Cc%20in%20%28d%29&limit=2")
        try await client.shutdown()
        try await server.shutdown()
    }

    @Test func anExpiredContinueTokenRestartsTheListWhole() async throws {
        let server = try await TestServer { req, _ in
            if req.uri.contains("continue=") {
                return .init(status: 410, body: #"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"continue expired","reason":"Expired","code":410}"#)
            }
            if req.uri.contains("limit=") {
                return .init(status: 200, body: #"{"metadata":{"resourceVersion":"10","continue":"tok"},"items":[{"metadata":{"name":"a","namespace":"n"}}]}"#)
            }
            return .init(status: 200, body: #"{"metadata":{"resourceVersion":"30"},"items":[{"metadata":{"name":"a","namespace":"n"}},{"metadata":{"name":"b","namespace":"n"}}]}"#)
        }
        let client = try KubeClient(config: KubeConfig(server: server.url))
        let list = try await client.list(ConfigMap.self, namespace: "n", pageSize: 1)
        #expect(list.items.map { $0.metadata.name } == ["a", "b"])
        #expect(list.metadata.resourceVersion == "30")
        try await client.shutdown()
        try await server.shutdown()
    }
}
