import Foundation
import KubeClient
import KubeModel
import Testing

@Suite struct KubeConfigTests {
    let base = """
        apiVersion: v1
        kind: Config
        current-context: a
        clusters:
        - name: c1
          cluster:
            server: https://127.0.0.1:6443/
            certificate-authority-data: \(Data("CA-PEM".utf8).base64EncodedString())
        - name: c2
          cluster:
            server: https://10.0.0.1
            insecure-skip-tls-verify: true
        users:
        - name: tok
          user:
            token: abc
        - name: cert
          user:
            client-certificate-data: \(Data("CERT".utf8).base64EncodedString())
            client-key-data: \(Data("KEY".utf8).base64EncodedString())
        - name: file
          user:
            tokenFile: /var/run/token
        contexts:
        - name: a
          context: {cluster: c1, user: tok, namespace: team}
        - name: b
          context: {cluster: c2, user: cert}
        - name: c
          context: {cluster: c1, user: file}
        - name: d
          context: {cluster: c1, user: ghost}
        """

    @Test func theCurrentContextGivesServerTokenCAAndNamespace() throws {
        let c = try KubeConfig.parse(base)
        #expect(c.server == "https://127.0.0.1:6443")
        #expect(c.caPEM == Array("CA-PEM".utf8))
        #expect(c.namespace == "team")
        #expect(!c.insecureSkipTLSVerify)
        guard case .token(let t) = c.credentials else { Issue.record("expected a token"); return }
        #expect(t == "abc")
    }

    @Test func anExplicitContextWithClientCertificateAndInsecureCluster() throws {
        let c = try KubeConfig.parse(base, context: "b")
        #expect(c.insecureSkipTLSVerify)
        guard case .clientCertificate(let cert, let key) = c.credentials else { Issue.record("expected a client certificate"); return }
        #expect(cert == Array("CERT".utf8) && key == Array("KEY".utf8))
    }

    @Test func aTokenFileIsKeptAsAPathToReRead() throws {
        let c = try KubeConfig.parse(base, context: "c")
        guard case .tokenFile(let p) = c.credentials else { Issue.record("expected a token file"); return }
        #expect(p == "/var/run/token")
    }

    @Test func aCAFileIsReadRelativeToTheKubeconfig() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("FILE-CA".utf8).write(to: dir.appendingPathComponent("ca.crt"))
        let text = """
            current-context: x
            clusters: [{name: c, cluster: {server: "https://h", certificate-authority: ca.crt}}]
            users: [{name: u, user: {token: t}}]
            contexts: [{name: x, context: {cluster: c, user: u}}]
            """
        try Data(text.utf8).write(to: dir.appendingPathComponent("config"))
        let c = try KubeConfig.fromFile(dir.appendingPathComponent("config").path)
        #expect(c.caPEM == Array("FILE-CA".utf8))
    }

    @Test(arguments: [
        ("an unknown context", "zzz", "no context \"zzz\""),
        ("a context naming an unknown user", "d", "no user \"ghost\""),
    ])
    func errorsNameWhatIsMissing(_ name: String, _ context: String, _ fragment: String) {
        #expect {
            try KubeConfig.parse(base, context: context)
        } throws: { error in
            "\(error)".contains(fragment)
        }
    }

    @Test func inClusterNeedsTheServiceEnvironment() {
        #expect(throws: KubeConfig.ConfigError.self) { try KubeConfig.inCluster(environment: [:]) }
    }

    @Test func inClusterReadsCANamespaceAndKeepsTheTokenFile() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sa-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try Data("tok".utf8).write(to: dir.appendingPathComponent("token"))
        try Data("CA".utf8).write(to: dir.appendingPathComponent("ca.crt"))
        try Data("vigil-system\n".utf8).write(to: dir.appendingPathComponent("namespace"))
        let c = try KubeConfig.inCluster(environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDir: dir.path)
        #expect(c.server == "https://10.96.0.1:443")
        #expect(c.namespace == "vigil-system")
        #expect(c.caPEM == Array("CA".utf8))
        guard case .tokenFile(let p) = c.credentials else { Issue.record("expected a token file"); return }
        #expect(p.hasSuffix("/token"))
    }
}
