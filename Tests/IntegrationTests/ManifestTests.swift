import Foundation
import Testing

/// The install manifests (`manifests/`, base and the single-namespace overlay) are accepted
/// by the real API server, first in a server-side dry run, then for real.
@Suite(.serialized) struct ManifestTests {
    /// The rendered kustomization, for this 1.20 API server: PodDisruptionBudget is
    /// `policy/v1` from Kubernetes 1.21 (and the only version from 1.25), so it is sent as
    /// `policy/v1beta1` here, with the same fields.
    func rendered(_ path: String) async throws -> String {
        let yaml = try await run(["kubectl", "kustomize", repoRoot.appendingPathComponent(path).path])
        return yaml.replacingOccurrences(of: "apiVersion: policy/v1\nkind: PodDisruptionBudget", with: "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget")
    }

    @Test(arguments: ["manifests", "manifests/overlays/single-namespace"])
    func theManifestsPassAServerSideDryRunAndApply(_ path: String) async throws {
        let plane = try await SharedControlPlane.shared.get()
        // A dry run cannot place objects in namespaces that do not exist yet.
        for n in ["vigil-system", "observability"] { try await plane.createNamespace(n) }
        let yaml = try await rendered(path)
        #expect(yaml.contains("kind: Deployment") && yaml.contains("kind: CustomResourceDefinition"))
        let dry = try await plane.kubectl("apply", "--dry-run=server", "-f", "-", input: yaml)
        #expect(dry.contains("deployment.apps/vigil"))
        try await plane.kubectl("apply", "-f", "-", input: yaml)
        let deployment = try await plane.kubectl("get", "deployment", "vigil", "-n", "vigil-system", "-o", "jsonpath={.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem}")
        #expect(deployment == "true")
        if path.hasSuffix("single-namespace") {
            #expect(try await plane.kubectl("get", "role", "vigil", "-n", "observability", "-o", "name") == "role.rbac.authorization.k8s.io/vigil\n")
        }
    }

    /// Every YAML block of the README is something the API server accepts (a server-side dry run).
    @Test func theReadmesYAMLPassesAServerSideDryRun() async throws {
        let plane = try await SharedControlPlane.shared.get()
        try await plane.createNamespace("fba-prod")
        let readme = try String(contentsOf: repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var blocks: [String] = []
        var current: [String]? = nil
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```yaml") { current = [] } else if line.hasPrefix("```"), let c = current {
                blocks.append(c.joined(separator: "\n"))
                current = nil
            } else if current != nil { current?.append(String(line)) }
        }
        #expect(blocks.count >= 2)
        for block in blocks where block.contains("apiVersion:") {
            let dry = try await plane.kubectl("apply", "--dry-run=server", "-f", "-", input: block)
            #expect(dry.contains("(server dry run)"), "\(block.prefix(200))")
        }
    }
}
