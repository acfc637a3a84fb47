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
        try await plane.createNamespace(ns)
        let vigil = try VigilProcess(kubeconfig: plane.kubeconfig, namespace: ns)
        defer { if vigil.isRunning { _ = kill(vigil.process.processIdentifier, SIGKILL) } }
        let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: apps}\n      - {name: worker, namespace: jobs}\n"
        try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: clients))
        func data(_ name: String) async throws -> [String: String]? {
            do {
                let s = try await plane.client.get(Secret.self, namespace: ns, name: name)
                return s.data?.compactMapValues { Data(base64Encoded: $0).map { String(decoding: $0, as: UTF8.self) } }
            } catch let e as KubeAPIError where e.isNotFound {
                return nil
            }
        }
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
        let stack = try await eventually("CredentialsReady") { () -> ObservabilityStack? in
            let s = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "app")
            return s.status?.condition("CredentialsReady")?.status == "True" ? s : nil
        }
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
}
