#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Render
import Testing

/// Self-signed ingest certificates on the real API server.
@Suite(.serialized) struct CertificateTests {
    func secretField(_ plane: ControlPlane, _ ns: String, _ name: String, _ key: String) async throws -> String? {
        try await plane.secretData(ns, name)?[key]
    }

    @Test func theSecretsAppearWithTheRightSANsAndAForcedRotationKeepsTheCA() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "certs"
        try await plane.createNamespace(ns)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns) { vigil in
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: "  ingest:\n    tls:\n      dnsNames: [otel.example.com]\n      ipAddresses: [10.1.2.3]\n"))
            let leaf = try await eventually("the serving certificate") { try await secretField(plane, ns, "app-ingest-tls", "tls.crt") }
            let bundle = try #require(try await secretField(plane, ns, "app-ingest-tls", "ca.crt"))
            let ca = try #require(try await secretField(plane, ns, "app-ca", "tls.crt"))
            #expect(bundle == ca || bundle == ca + "\n", "the bundle is not the CA; log:\n\(vigil.log.suffix(4000))")

            let dir = "\(testRoot)/certs-\(UUID().uuidString.prefix(6))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try leaf.write(toFile: "\(dir)/tls.crt", atomically: true, encoding: .utf8)
            try bundle.write(toFile: "\(dir)/ca.crt", atomically: true, encoding: .utf8)
            let text = try await run(["openssl", "x509", "-in", "\(dir)/tls.crt", "-noout", "-text"])
            for san in ["DNS:app-collector", "DNS:app-collector.certs", "DNS:app-collector.certs.svc", "DNS:app-collector.certs.svc.cluster.local", "DNS:otel.example.com", "IP Address:10.1.2.3"] {
                #expect(text.contains(san), "missing \(san)")
            }
            let verified = try await run(["openssl", "verify", "-CAfile", "\(dir)/ca.crt", "\(dir)/tls.crt"])
            #expect(verified.contains(": OK"))

            let status = try await eventually("CertificateReady") { () -> ObservabilityStack? in
                let s = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "app")
                return s.status?.condition("CertificateReady")?.status == "True" ? s : nil
            }
            let serial = try #require(status.status?.certificate?.serial)
            #expect(status.status?.certificate?.caPhase == "Stable")
            #expect(status.status?.certificate?.notAfter != nil && status.status?.certificate?.renewalTime != nil)

            // Forced rotation: a new leaf from the same CA.
            try await plane.kubectl("annotate", "observabilitystack", "app", "-n", ns, "observability.vigil.dev/rotate-certificate=first")
            let rotated = try await eventually("a new serial") { () -> String? in
                let s = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "app")
                guard let now = s.status?.certificate?.serial, now != serial else { return nil }
                return now
            }
            #expect(rotated != serial)
            #expect(try await secretField(plane, ns, "app-ca", "tls.crt") == ca)
            #expect(try await secretField(plane, ns, "app-ingest-tls", "tls.crt") != leaf)

            // No key material in logs, events or status.
            let key = try #require(try await secretField(plane, ns, "app-ingest-tls", "tls.key"))
            let keyLine = key.split(separator: "\n").dropFirst().first.map(String.init) ?? "unlikely"
            let events = try await plane.kubectl("get", "events", "-n", ns, "-o", "yaml")
            let stackYAMLText = try await plane.kubectl("get", "observabilitystack", "app", "-n", ns, "-o", "yaml")
            for (what, text) in [("the log", vigil.log), ("events", events), ("status", stackYAMLText)] {
                #expect(!text.contains("PRIVATE KEY") && !text.contains(keyLine), "key material in \(what)")
            }
            #expect(events.contains("CertificateIssued"))
            #expect(await vigil.terminate() == 0)
        }
    }

    @Test func aBrokenUserSecretGivesCertificateReadyFalseAndLeavesTheCollectorAsItWas() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "usercert"
        try await plane.createNamespace(ns)
        let dir = "\(testRoot)/usercert-\(UUID().uuidString.prefix(6))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for n in ["a", "b"] {
            try await run([
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(dir)/\(n).key",
                "-out", "\(dir)/\(n).crt", "-days", "30", "-subj", "/CN=app-collector.\(ns).svc",
            ])
        }
        // Written by hand: kubectl itself refuses a mismatched pair, a GitOps tool does not.
        func putSecret(cert: String, key: String) async throws {
            let c = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(cert).crt")).base64EncodedString()
            let k = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/\(key).key")).base64EncodedString()
            let yaml = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: mine\n  namespace: \(ns)\ntype: kubernetes.io/tls\ndata:\n  tls.crt: \(c)\n  tls.key: \(k)\n"
            try await plane.kubectl("apply", "-f", "-", input: yaml)
        }
        try await putSecret(cert: "a", key: "a")
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns, extra: ["--resync-period", "2"]) { vigil in
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging", extra: "  ingest:\n    tls:\n      mode: Secret\n      secretName: mine\n"))
            _ = try await eventually("CertificateReady=True") { () -> Bool? in
                let s = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "app")
                return s.status?.condition("CertificateReady")?.status == "True" && s.status?.condition("Ready")?.status == "True" ? true : nil
            }
            let ds = try await plane.client.list(Unstructured.self, resource: Kinds.daemonSet, namespace: ns).items.first
            let rvBefore = try #require(ds?.metadata.resourceVersion)
            let volumes = ds?.object["spec"]?["template"]?["spec"]?["volumes"]?.arrayValue ?? []
            #expect(volumes.contains { $0["secret"]?["secretName"] == "mine" })

            // The key no longer matches the certificate.
            try await putSecret(cert: "a", key: "b")
            let broken = try await eventually("CertificateReady=False") { () -> ObservabilityStack? in
                let s = try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "app")
                return s.status?.condition("CertificateReady")?.status == "False" ? s : nil
            }
            #expect(broken.status?.condition("CertificateReady")?.reason == "InvalidSecret")
            #expect(broken.status?.condition("CertificateReady")?.message.contains("does not match") == true)
            #expect(broken.status?.condition("Ready")?.status == "False")
            try await Task.sleep(nanoseconds: 3_000_000_000)
            let after = try await plane.client.list(Unstructured.self, resource: Kinds.daemonSet, namespace: ns).items.first
            #expect(after?.metadata.resourceVersion == rvBefore, "the collector DaemonSet changed while the Secret was broken")
            let key = try String(contentsOfFile: "\(dir)/b.key", encoding: .utf8)
            let keyLine = key.split(separator: "\n").dropFirst().first.map(String.init) ?? "unlikely"
            #expect(!vigil.log.contains(keyLine))
            #expect(await vigil.terminate() == 0)
        }
    }

    @Test func theCARolloverGoesThroughItsThreeStepsVisibleInStatus() async throws {
        let plane = try await SharedControlPlane.shared.get()
        let ns = "rollover"
        try await plane.createNamespace(ns)
        let offsetFile = "\(testRoot)/clock-\(UUID().uuidString.prefix(6))"
        try "0".write(toFile: offsetFile, atomically: true, encoding: .utf8)
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: ns, extra: ["--resync-period", "1", "--clock-offset-file", offsetFile]) { vigil in
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: ns, environment: "staging"))
            func status() async throws -> CertificateStatus? {
                try await plane.client.get(ObservabilityStack.self, namespace: ns, name: "app").status?.certificate
            }
            _ = try await eventually("the first certificate") { try await status()?.caPhase == "Stable" ? true : nil }
            let firstCA = try #require(try await secretField(plane, ns, "app-ca", "tls.crt"))
            let day = 86400.0
            // The CA lives 365 days and renews a third before its end; clients get 7 days per step.
            var offset = 250 * day
            func advance(_ by: Double) throws {
                offset += by
                try String(Int(offset)).write(toFile: offsetFile, atomically: true, encoding: .utf8)
            }
            try advance(0)
            _ = try await eventually("NewCAInBundle") { try await status()?.caPhase == "NewCAInBundle" ? true : nil }
            let bundle1 = try #require(try await secretField(plane, ns, "app-ingest-tls", "ca.crt"))
            #expect(bundle1.components(separatedBy: "BEGIN CERTIFICATE").count == 3, "both CAs in the bundle")
            #expect(bundle1.contains(firstCA.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(try await secretField(plane, ns, "app-ca", "previous.crt") == firstCA)

            try advance(7 * day + 60)
            _ = try await eventually("LeafOnNewCA") { try await status()?.caPhase == "LeafOnNewCA" ? true : nil }
            let newCA = try #require(try await secretField(plane, ns, "app-ca", "tls.crt"))
            #expect(newCA != firstCA)
            let dir = "\(testRoot)/rollover-\(UUID().uuidString.prefix(6))"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try (try #require(try await secretField(plane, ns, "app-ingest-tls", "tls.crt"))).write(toFile: "\(dir)/leaf.crt", atomically: true, encoding: .utf8)
            try newCA.write(toFile: "\(dir)/new.crt", atomically: true, encoding: .utf8)
            let attime = String(Int(Date().timeIntervalSince1970 + offset))
            let verified = try await run(["openssl", "verify", "-attime", attime, "-CAfile", "\(dir)/new.crt", "\(dir)/leaf.crt"])
            #expect(verified.contains(": OK"), "the leaf is issued from the new CA")

            try advance(7 * day + 60)
            _ = try await eventually("Stable again") { try await status()?.caPhase == "Stable" ? true : nil }
            let bundle3 = try #require(try await secretField(plane, ns, "app-ingest-tls", "ca.crt"))
            #expect(bundle3.components(separatedBy: "BEGIN CERTIFICATE").count == 2, "the old CA left the bundle")
            #expect(try await secretField(plane, ns, "app-ca", "previous.crt") == nil)
            #expect(try await secretField(plane, ns, "app-ca", "tls.crt") == newCA)
            #expect(await vigil.terminate() == 0)
        }
    }
}
