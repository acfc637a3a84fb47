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
        for n in ["apps", "jobs"] { try await plane.accept(["\(ns)/app"], in: n) }
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: apps}\n      - {name: worker, namespace: jobs}\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: clients))
            func data(_ name: String) async throws -> [String: String]? { try await plane.secretData(ns, name) }
            let htpasswd = try await eventually("the htpasswd Secret") { try await data("app-htpasswd")?["htpasswd"] }
            let creds = try #require(try await data("app-credentials"))
            let path = "\(testRoot)/htpasswd-\(UUID().uuidString.prefix(6))"
            try htpasswd.write(toFile: path, atomically: true, encoding: .utf8)
            for client in ["api", "worker"] {
                let password = try #require(creds["g1.\(client)"])
                #expect((try? await run(["htpasswd", "-vb", path, "\(client)-g1", password])) != nil, "htpasswd -vb rejects \(client)")
                #expect((try? await run(["htpasswd", "-vb", path, "\(client)-g1", password + "x"])) == nil, "htpasswd -vb accepts a wrong password")
            }
            // The DaemonSet mounts the file as a directory (it is applied after the Secrets).
            let volumes = try await eventually("the DaemonSet") { () -> [JSONValue]? in
                let ds = try await plane.client.list(Unstructured.self, resource: .init(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets"), namespace: ns).items.first
                return ds?.object["spec"]?["template"]?["spec"]?["volumes"]?.arrayValue
            }
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
    }

    @Test func clientSecretsAppearInTwoNamespacesAreRestoredAndGoAwayWithTheStack() async throws {
        // Its own control plane: this operator watches every namespace, and must not meet
        // the other suites' stacks (leader election is issue 8's).
        try await withOwnControlPlane(name: "clients") { plane in
            try await plane.installCRD()
            try await clientSecretsScenario(plane)
        }
    }

    func clientSecretsScenario(_ plane: ControlPlane) async throws {
        let ns = "owner"
        for n in [ns, "app-one", "app-two"] { try await plane.createNamespace(n) }
        for n in ["app-one", "app-two"] { try await plane.accept(["\(ns)/app"], in: n) }
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: nil) { vigil in
            let clients = """
                  ingest:
                    tls: {clientAuth: Required}
                    basicAuth:
                      clients:
                      - {name: one, namespace: app-one}
                      - {name: two, namespace: app-two}

                """
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: clients))
            func clientSecret(_ n: String) async throws -> Secret? {
                try await plane.getIfExists(Secret.self, n, "\(ns).app-otlp-client")
            }
            let one = try await eventually("the client Secret in app-one") { try await clientSecret("app-one") }
            _ = try await eventually("the client Secret in app-two") { try await clientSecret("app-two") }
            let header = one.data?["OTEL_EXPORTER_OTLP_HEADERS"].flatMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) } ?? ""
            #expect(header.hasPrefix("Authorization=Basic%20"))
            #expect(one.data?["ca.crt"] != nil)

            // mTLS: the client certificate is for client authentication, names the client, and
            // chains to the bundle the collector verifies clients with (client_ca_file).
            let data = try #require(try await plane.secretData("app-one", "\(ns).app-otlp-client"))
            let dir = "\(testRoot)/mtls-\(UUID().uuidString.prefix(6))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            for f in ["ca.crt", "tls.crt", "tls.key"] { try #require(data[f]).write(toFile: "\(dir)/\(f)", atomically: true, encoding: .utf8) }
            let verified = try await run(["openssl", "verify", "-purpose", "sslclient", "-CAfile", "\(dir)/ca.crt", "\(dir)/tls.crt"])
            #expect(verified.contains("OK"))
            let subject = try await run(["openssl", "x509", "-in", "\(dir)/tls.crt", "-noout", "-subject"])
            #expect(subject.contains("CN = one") || subject.contains("CN=one"))
            let fromCert = try await run(["openssl", "x509", "-in", "\(dir)/tls.crt", "-noout", "-pubkey"])
            let fromKey = try await run(["openssl", "pkey", "-in", "\(dir)/tls.key", "-pubout"])
            #expect(fromCert == fromKey)
            #expect(data["OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE"] == "/etc/vigil/otlp/tls.crt" && data["OTEL_EXPORTER_OTLP_CLIENT_KEY"] == "/etc/vigil/otlp/tls.key")
            let config = try await plane.kubectl("get", "configmap", "app-collector", "-n", ns, "-o", "jsonpath={.data.config\\.yaml}")
            #expect(config.contains("client_ca_file: /etc/vigil/tls/ca.crt") && config.contains("client_ca_file_reload: true"))

            // Deleted by hand: restored, and, since a deleted Secret may have been exposed, the
            // credentials rotate (here the DaemonSet controller sees no node, so each rollout
            // is complete at once).
            #expect(one.metadata.annotations?["observability.vigil.dev/credential-generation"] == "1")
            try await plane.kubectl("delete", "secret", "\(ns).app-otlp-client", "-n", "app-one")
            let restored = try await eventually("the restored, rotated client Secret", timeout: 60) { () -> Secret? in
                let s = try await clientSecret("app-one")
                return s?.metadata.uid != one.metadata.uid && s?.metadata.annotations?["observability.vigil.dev/credential-generation"] == "2" ? s : nil
            }
            #expect(restored.data?["OTEL_EXPORTER_OTLP_HEADERS"] != one.data?["OTEL_EXPORTER_OTLP_HEADERS"])
            _ = try await eventually("app-two's Secret on generation 2") { () -> Bool? in
                try await clientSecret("app-two")?.metadata.annotations?["observability.vigil.dev/credential-generation"] == "2" ? true : nil
            }

            // A client removed: its Secret goes.
            try await plane.kubectl("patch", "observabilitystack", "app", "-n", ns, "--type=merge", "-p", #"{"spec":{"ingest":{"basicAuth":{"clients":[{"name":"one","namespace":"app-one"}]}}}}"#)
            _ = try await eventually("app-two's Secret removed") { try await clientSecret("app-two") == nil ? true : nil }

            // The stack deleted: the finalizer removes the remaining client Secret, then lets go.
            try await plane.kubectl("delete", "observabilitystack", "app", "-n", ns, "--wait=false")
            _ = try await eventually("app-one's Secret removed") { try await clientSecret("app-one") == nil ? true : nil }
            _ = try await eventually("the stack gone") { () -> Bool? in
                try await plane.getIfExists(ObservabilityStack.self, ns, "app") == nil ? true : nil
            }
            let password = String(decoding: Data(base64Encoded: String((header.removingPercentEncoding ?? header).dropFirst("Authorization=Basic ".count))) ?? Data(), as: UTF8.self)
                .split(separator: ":", maxSplits: 1).last.map(String.init) ?? "unlikely"
            #expect(!vigil.log.contains(password) && !vigil.log.contains(header))
            let keyBody = (data["tls.key"] ?? "").split(separator: "\n").dropFirst().first.map(String.init) ?? "unlikely"
            #expect(!vigil.log.contains(keyBody), "a client private key in the log")
            #expect(await vigil.terminate() == 0)
        }
    }

    @Test func aFullRotationWaitsForEachRolloutAndSurvivesARestartMidway() async throws {
        // Its own control plane without the DaemonSet controller: the test plays its part.
        try await withOwnControlPlane(name: "rotation", controllers: "garbagecollector,namespace") { plane in
            try await plane.installCRD()
            try await rotationScenario(plane)
        }
    }

    func rotationScenario(_ plane: ControlPlane) async throws {
        let ns = "rot"
        for n in [ns, "app-a", "app-b"] { try await plane.createNamespace(n) }
        for n in ["app-a", "app-b"] { try await plane.accept(["\(ns)/app"], in: n) }
        var vigil = try VigilProcess(kubeconfig: plane.kubeconfig, namespace: nil)
        var logs: [String] = []
        defer { vigil.kill() }
        let clients = """
              ingest:
                basicAuth:
                  clients:
                  - {name: a, namespace: app-a}
                  - {name: b, namespace: app-b}
                  rotation: {interval: 1h, overlap: 8s}

            """
        try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: clients))
        let dsResource = ResourceDescriptor(group: "apps", version: "v1", kind: "DaemonSet", plural: "daemonsets")
        func daemonSet() async throws -> Unstructured? {
            try await plane.client.list(Unstructured.self, resource: dsResource, namespace: ns).items.first { $0.metadata.name == "app-collector" }
        }
        func htpasswdHash() async throws -> String? {
            try await daemonSet()?.object["spec"]?["template"]?["metadata"]?["annotations"]?["observability.vigil.dev/htpasswd-hash"]?.stringValue
        }
        /// The DaemonSet controller's part: two nodes, both pods on the current template.
        func rollOut() async throws {
            let ds = try #require(try await daemonSet())
            let status: JSONValue = [
                "status": [
                    "observedGeneration": .int(ds.metadata.generation ?? 1), "desiredNumberScheduled": 2, "currentNumberScheduled": 2,
                    "updatedNumberScheduled": 2, "numberAvailable": 2, "numberReady": 2, "numberMisscheduled": 0,
                ]
            ]
            _ = try await plane.client.mergePatch(status, resource: dsResource, namespace: ns, name: "app-collector", subresource: "status")
        }
        func clientSecret(_ n: String) async throws -> Secret? { try await plane.getIfExists(Secret.self, n, "\(ns).app-otlp-client") }
        func generation(_ n: String) async throws -> String? {
            try await clientSecret(n)?.metadata.annotations?["observability.vigil.dev/credential-generation"]
        }
        func stackStatus() async throws -> ObservabilityStack? { try await plane.getIfExists(ObservabilityStack.self, ns, "app") }
        func users() async throws -> [String] {
            let file = try await plane.secretData(ns, "app-htpasswd")?["htpasswd"] ?? ""
            return file.split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
        }
        /// Each client's published credential, checked with the real htpasswd against the
        /// file the collector mounts.
        func checkPublished(generation g: Int) async throws -> [String] {
            let file = try #require(try await plane.secretData(ns, "app-htpasswd")?["htpasswd"])
            let path = "\(testRoot)/rotation-\(UUID().uuidString.prefix(6))"
            try file.write(toFile: path, atomically: true, encoding: .utf8)
            var secrets: [String] = []
            for (client, n) in [("a", "app-a"), ("b", "app-b")] {
                let header = try #require(try await plane.secretData(n, "\(ns).app-otlp-client")?["OTEL_EXPORTER_OTLP_HEADERS"])
                let raw = Data(base64Encoded: String((header.removingPercentEncoding ?? header).dropFirst("Authorization=Basic ".count))) ?? Data()
                let parts = String(decoding: raw, as: UTF8.self).split(separator: ":", maxSplits: 1).map(String.init)
                #expect(parts.first == "\(client)-g\(g)")
                #expect((try? await run(["htpasswd", "-vb", path, parts[0], parts[1]])) != nil, "htpasswd -vb rejects \(parts[0])")
                secrets += [header, parts[1]]
            }
            return secrets
        }

        // Generation 1: the file is made and the collector rolls; no client Secret until
        // the DaemonSet reports every pod on it.
        _ = try await eventually("the htpasswd file") { try await users() == ["a-g1", "b-g1"] ? true : nil }
        let hash1 = try await eventually("the DaemonSet") { try await htpasswdHash() }
        _ = try await eventually("CredentialsReady=False WaitingForRollout") {
            try await stackStatus()?.status?.condition("CredentialsReady")?.reason == "WaitingForRollout" ? true : nil
        }
        let early = [try await clientSecret("app-a"), try await clientSecret("app-b")]
        #expect(early.allSatisfy { $0 == nil })
        try await rollOut()
        _ = try await eventually("both client Secrets on generation 1") {
            let both = [try await generation("app-a"), try await generation("app-b")]
            return both == ["1", "1"] ? true : nil
        }
        var secrets = try await checkPublished(generation: 1)

        // Step 1, on request: generation 2 joins the file beside 1, and the collector rolls.
        try await plane.kubectl("annotate", "observabilitystack", "app", "-n", ns, "vigil.dev/rotate-credentials=now")
        _ = try await eventually("phase RollingOut in status") {
            try await stackStatus()?.status?.credentials?.phase == "RollingOut" ? true : nil
        }
        #expect(try await users() == ["a-g1", "b-g1", "a-g2", "b-g2"])
        let hash2 = try await eventually("the DaemonSet rolling onto both generations") { () -> String? in
            let h = try await htpasswdHash()
            return h != hash1 ? h : nil
        }

        // Vigil is killed mid-rotation; its successor must not publish before the rollout.
        vigil.kill()
        logs.append(vigil.log)
        vigil = try VigilProcess(kubeconfig: plane.kubeconfig, namespace: nil)
        try await Task.sleep(nanoseconds: 3_000_000_000)
        let held = [try await generation("app-a"), try await generation("app-b")]
        #expect(held == ["1", "1"])
        #expect(try await stackStatus()?.status?.credentials?.phase == "RollingOut")
        #expect(try await htpasswdHash() == hash2)

        // Step 2: every pod has the new file; the clients get generation 2.
        try await rollOut()
        _ = try await eventually("both client Secrets on generation 2") {
            let both = [try await generation("app-a"), try await generation("app-b")]
            return both == ["2", "2"] ? true : nil
        }
        secrets += try await checkPublished(generation: 2)
        let overlap = try #require(try await stackStatus()?.status?.credentials)
        #expect(overlap.generation == 2 && overlap.phase == "Overlap" && overlap.previousRemovedAfter != nil)

        // Step 3: after the overlap, generation 1 leaves the file and the collector rolls.
        _ = try await eventually("generation 1 removed", timeout: 60) { try await users() == ["a-g2", "b-g2"] ? true : nil }
        _ = try await eventually("phase Stable") { try await stackStatus()?.status?.credentials?.phase == "Stable" ? true : nil }
        #expect(try await htpasswdHash() != hash2)
        try await rollOut()
        secrets += try await checkPublished(generation: 2)

        // No password, hash or header in either operator's log, in events or in status.
        logs.append(vigil.log)
        let events = try await plane.kubectl("get", "events", "-n", ns, "-o", "yaml")
        #expect(events.contains("CredentialsPublished") && events.contains("PreviousCredentialsRemoved"))
        let status = try await plane.kubectl("get", "observabilitystack", "app", "-n", ns, "-o", "yaml")
        let hashes = try await plane.secretData(ns, "app-credentials")?.filter { $0.key.hasSuffix(".bcrypt") }.map(\.value) ?? []
        for secret in secrets + hashes {
            for (what, text) in [("the logs", logs.joined()), ("events", events), ("status", status)] {
                #expect(!text.contains(secret), "a credential in \(what)")
            }
        }
        #expect(await vigil.terminate() == 0)
    }
}
