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

    /// The README's quick start, run word for word (its one `sh` block under "Quick start")
    /// against a control plane of its own; a Vigil process stands in for the Deployment,
    /// whose pods never start here (no kubelet).
    @Test func theReadmesQuickStartWorksAsWritten() async throws {
        let readme = try String(contentsOf: repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(readme.components(separatedBy: "## Quick start on an existing cluster").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```sh\n").dropFirst().first?.components(separatedBy: "\n```").first)
        #expect(block.contains("kubectl apply -k manifests/") && block.contains("OTEL_EXPORTER_OTLP_ENDPOINT"))
        try await withOwnControlPlane(name: "quickstart") { plane in
            try await plane.installCRD()
            try await withVigil(kubeconfig: plane.kubeconfig, namespace: nil) { vigil in
                // One substitution: Kubernetes 1.20 serves PodDisruptionBudget only as
                // policy/v1beta1 (the manifests are for current clusters, policy/v1).
                let for120 = block.replacingOccurrences(
                    of: "kubectl apply -k manifests/", with: "kubectl kustomize manifests/ | sed 's#^apiVersion: policy/v1$#apiVersion: policy/v1beta1#' | kubectl apply -f -")
                #expect(for120 != block)
                let out = try await run(["bash", "-euo", "pipefail", "-c", "cd \(repoRoot.path)\n" + for120], environment: ["KUBECONFIG": plane.kubeconfig])
                #expect(out.hasSuffix("https://obs-collector.shop.svc:4317"), "\(out)")
                #expect(await vigil.terminate() == 0)
            }
        }
    }
}
