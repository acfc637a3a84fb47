#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// BasicAuth credentials on the real API server, checked with the real htpasswd.
@Suite(.serialized) struct CredentialTests {
    @Test func everyClientCredentialVerifiesAgainstTheMountedHtpasswdFile() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "creds"
        for n in [ns, "apps", "jobs"] { try await plane.createNamespace(n) }
        let vigil = try VigilProcess(kubeconfig: plane.kubeconfig, namespace: ns)
        defer { if vigil.isRunning { _ = kill(vigil.process.processIdentifier, SIGKILL) } }
        let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: apps}\n      - {name: worker, namespace: jobs}\n"
        try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: clients))
        func data(_ name: String) async throws -> [String: String]? { try await plane.secretData(ns, name) }
        let htpasswd = try await eventually("the htpasswd Secret") { try await data("app-htpasswd")?["htpasswd"] }
        let creds = try #require(try await data("app-credentials"))
        let path = "\(testRoot)/htpasswd-\(UUID().uuidString.prefix(6))"
        try htpasswd.write(toFile: path, atomically: true, encoding: .utf8)
        for client in ["api", "worker"] {
            let password = try #require(creds[client])
            #expect((try? await run(["htpasswd", "-vb", path, "\(client)-g1", password])) != nil, "htpasswd -vb rejects \(client)")
            #expect((try? await run(["htpasswd", "-vb", path, "\(client)-g1", password + "x"])) == nil, "htpasswd -vb accepts a wrong password")
        }
        // The DaemonSet mounts the file as a directory.
        let ds = try await plane.client.list(Unstructured.self, resource: .init(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets"), namespace: ns).items.first
        let volumes = ds?.object["spec"]?["template"]?["spec"]?["volumes"]?.arrayValue ?? []
        #expect(volumes.contains { $0["secret"]?["secretName"] == "app-htpasswd" })
        // This operator watches one namespace: clients elsewhere get no Secret, and the
        // condition says so (the htpasswd file above serves them all the same).
        let stack = try await eventually("CredentialsReady reported") { () -> ObservabilityStack? in
            let s = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "app")
            return s.status?.condition("CredentialsReady")?.reason == "NamespaceNotWatched" ? s : nil
        }
        #expect(stack.status?.condition("CredentialsReady")?.status == "False")
        #expect(stack.status?.condition("CredentialsReady")?.message.contains("apps, jobs") == true)
        #expect(stack.status?.credentials?.generation == 1)
        #expect(stack.status?.credentials?.nextRotation != nil)
        // No password or hash in the log, events or status.
        let events = try await plane.kubectl("get", "events", "-n", ns, "-o", "yaml")
        let status = try await plane.kubectl("get", "observabilitystack", "app", "-n", ns, "-o", "yaml")
        let hashes = htpasswd.split(separator: "\n").map { String($0.split(separator: ":", maxSplits: 1).last ?? "") }
        for secret in Array(creds.values) + hashes {
            for (what, text) in [("the log", vigil.log), ("events", events), ("status", status)] {
                #expect(!text.contains(secret), "a credential in \(what)")
            }
        }
        #expect(await vigil.terminate() == 0)
    }

    @Test func clientSecretsAppearInTwoNamespacesAreRestoredAndGoAwayWithTheStack() async throws {
        // Its own control plane: this operator watches every namespace, and must not meet
        // the other suites' stacks (leader election is issue 8's).
        let plane = try await ControlPlane.start(name: "clients")
        do {
            try await plane.installCRD()
            try await clientSecretsScenario(plane)
        } catch {
            await plane.stop()
            throw error
        }
        await plane.stop()
    }

    func clientSecretsScenario(_ plane: ControlPlane) async throws {
        let ns = "owner"
        for n in [ns, "app-one", "app-two"] { try await plane.createNamespace(n) }
        let vigil = try VigilProcess(kubeconfig: plane.kubeconfig, namespace: nil)
        defer { if vigil.isRunning { _ = kill(vigil.process.processIdentifier, SIGKILL) } }
        let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: one, namespace: app-one}\n      - {name: two, namespace: app-two}\n"
        try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: clients))
        func clientSecret(_ n: String) async throws -> Secret? {
            try await plane.getIfExists(Secret.self, n, "app-otlp-client")
        }
        let one = try await eventually("the client Secret in app-one") { try await clientSecret("app-one") }
        _ = try await eventually("the client Secret in app-two") { try await clientSecret("app-two") }
        let header = one.data?["OTEL_EXPORTER_OTLP_HEADERS"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(header.hasPrefix("Authorization=Basic "))
        #expect(one.data?["ca.crt"] != nil)

        // Deleted by hand: restored.
        try await plane.kubectl("delete", "secret", "app-otlp-client", "-n", "app-one")
        let restored = try await eventually("the restored client Secret") { () -> Secret? in
            let s = try await clientSecret("app-one")
            return s?.metadata.uid != one.metadata.uid ? s : nil
        }
        #expect(restored.data?["OTEL_EXPORTER_OTLP_HEADERS"] == one.data?["OTEL_EXPORTER_OTLP_HEADERS"])

        // A client removed: its Secret goes.
        try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"ingest":{"basicAuth":{"clients":[{"name":"one","namespace":"app-one"}]}}}}"#)
        _ = try await eventually("app-two's Secret removed") { try await clientSecret("app-two") == nil ? true : nil }

        // The stack deleted: the finalizer removes the remaining client Secret, then lets go.
        try await plane.kubectl("delete", "observabilitystack", "app", "-n", ns, "--wait=false")
        _ = try await eventually("app-one's Secret removed") { try await clientSecret("app-one") == nil ? true : nil }
        _ = try await eventually("the stack gone") { () -> Bool? in
            try await plane.getIfExists(ObservabilityStack.self, ns, "app") == nil ? true : nil
        }
        let password = String(decoding: Data(base64Encoded: String(header.dropFirst("Authorization=Basic ".count))) ?? Data(), as: UTF8.self)
            .split(separator: ":", maxSplits: 1).last.map(String.init) ?? "unlikely"
        #expect(!vigil.log.contains(password) && !vigil.log.contains(header))
        #expect(await vigil.terminate() == 0)
    }
}
