import Foundation
import Testing
import Yams

/// The install manifests (`manifests/`, base and the single-namespace overlay) are accepted
/// by the real API server, first in a server-side dry run, then for real.
@Suite(.serialized) struct ManifestTests {
    /// The rendered kustomization, for this 1.20 API server: PodDisruptionBudget is
    /// `policy/v1` from Kubernetes 1.21 (and the only version from 1.25), so it is sent as
    /// `policy/v1beta1` here, with the same fields.
    func rendered(_ path: String) async throws -> String {
        let yaml = try await run(["kubectl", "kustomize", repoRoot.appendingPathComponent(path).path])
        // No kubelet runs Vigil's pods here, so the webhook Service has no endpoints: the
        // webhook is applied failing open, and removed after, so that the other suites on
        // this control plane can write stacks.
        return yaml.replacingOccurrences(of: "apiVersion: policy/v1\nkind: PodDisruptionBudget", with: "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget")
            .replacingOccurrences(of: "failurePolicy: Fail", with: "failurePolicy: Ignore")
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
        let webhook = try await plane.kubectl("get", "validatingwebhookconfiguration", "vigil", "-o", "jsonpath={.webhooks[0].clientConfig.service.name}")
        #expect(webhook == "vigil-webhook")
        try await plane.kubectl("delete", "validatingwebhookconfiguration", "vigil", "--ignore-not-found")
        if path.hasSuffix("single-namespace") {
            #expect(try await plane.kubectl("get", "role", "vigil", "-n", "observability", "-o", "name") == "role.rbac.authorization.k8s.io/vigil\n")
        }
    }

    /// Every YAML block of the README is something the API server accepts (a server-side dry run).
    @Test func theReadmesYAMLPassesAServerSideDryRun() async throws {
        let plane = try await SharedControlPlane.shared.get()
        // In a namespace of its own: other suites apply the production example (fba-prod/
        // fba-bench) on this plane, and a dry run racing their create is told AlreadyExists
        // (seen once in a clean-clone rehearsal).
        let namespace = "readme-dry-run"
        try await plane.createNamespace(namespace)
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
            let dry = try await plane.kubectl("apply", "--dry-run=server", "-f", "-", input: block.replacingOccurrences(of: "namespace: fba-prod", with: "namespace: \(namespace)"))
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
                // And no kubelet runs Vigil's pods, so the webhook Service has no endpoints:
                // the webhook fails open here (the test's own Vigil reconciles).
                let for120 = block.replacingOccurrences(
                    of: "kubectl apply -k manifests/",
                    with: "kubectl kustomize manifests/ | sed -e 's#^apiVersion: policy/v1$#apiVersion: policy/v1beta1#' -e 's#failurePolicy: Fail#failurePolicy: Ignore#' | kubectl apply -f -")
                #expect(for120 != block)
                let out = try await run(["bash", "-euo", "pipefail", "-c", "cd \(repoRoot.path)\n" + for120], environment: ["KUBECONFIG": plane.kubeconfig])
                #expect(out.hasSuffix("https://obs-collector.shop.svc:4317"), "\(out)")
                #expect(await vigil.terminate() == 0)
            }
        }
    }

    /// The README's upgrade step on a CRD of the previous schema, created the way Helm
    /// creates it: stacks are kept, and fields the old schema pruned are stored after.
    @Test func theCRDUpgradeKeepsStacksAndAddsTheNewFields() async throws {
        let readme = try String(contentsOf: repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let upgrade = try #require(readme.components(separatedBy: "## Upgrade").dropFirst().first?.components(separatedBy: "```sh\n").dropFirst().first?
            .split(separator: "\n").first { $0.contains("crds/") }.map(String.init))
        let crdFile = repoRoot.appendingPathComponent("crds/observabilitystacks.observability.vigil.dev.yaml")
        var crd = try #require(try Yams.load(yaml: try String(contentsOf: crdFile, encoding: .utf8)) as? [String: Any])
        // The previous release's schema: without the fields this one added.
        func drop(_ path: [String], _ field: String, in object: inout [String: Any]) {
            guard let first = path.first else {
                var props = object["properties"] as? [String: Any] ?? [:]
                props[field] = nil
                object["properties"] = props
                return
            }
            var props = object["properties"] as? [String: Any] ?? [:]
            var child = props[first] as? [String: Any] ?? [:]
            drop(Array(path.dropFirst()), field, in: &child)
            props[first] = child
            object["properties"] = props
        }
        var spec = crd["spec"] as? [String: Any] ?? [:]
        var versions = spec["versions"] as? [[String: Any]] ?? []
        var schema = (versions[0]["schema"] as? [String: Any])?["openAPIV3Schema"] as? [String: Any] ?? [:]
        drop(["spec", "grafana"], "defaultDatasource", in: &schema)
        drop(["spec", "alerting"], "prometheusRule", in: &schema)
        drop(["status", "certificate"], "restartBy", in: &schema)
        versions[0]["schema"] = ["openAPIV3Schema": schema]
        spec["versions"] = versions
        crd["spec"] = spec
        let old = String(decoding: try JSONSerialization.data(withJSONObject: crd), as: UTF8.self)
        try await withOwnControlPlane(name: "crd-upgrade") { plane in
            try await plane.kubectl("create", "-f", "-", input: old)
            try await plane.kubectl("wait", "--for=condition=Established", "crd/observabilitystacks.observability.vigil.dev", "--timeout=60s")
            try await plane.createNamespace("shop")
            let stack = """
                apiVersion: observability.vigil.dev/v1alpha1
                kind: ObservabilityStack
                metadata: {name: obs, namespace: shop}
                spec:
                  environment: staging
                  sampling: {percentage: 20}
                  grafana: {defaultDatasource: true}
                """
            // kubectl's own validation reads the API server's OpenAPI, which follows a CRD
            // change after a while: the server's pruning is what is checked here.
            try await plane.kubectl("apply", "--validate=false", "-f", "-", input: stack)
            // The stored spec (not kubectl's last-applied annotation, which keeps everything).
            func stored() async throws -> String { try await plane.kubectl("get", "observabilitystack", "obs", "-n", "shop", "-o", "jsonpath={.spec}") }
            #expect(!(try await stored()).contains("defaultDatasource"), "the old schema keeps a field it does not know")
            _ = try await run(["bash", "-euo", "pipefail", "-c", "cd \(repoRoot.path)\n" + upgrade], environment: ["KUBECONFIG": plane.kubeconfig])
            // The stack is still there, as it was; the new field is stored once applied again.
            #expect((try await stored()).contains("\"percentage\":20"))
            try await plane.kubectl("apply", "--validate=false", "-f", "-", input: stack)
            let after = try await stored()
            #expect(after.contains("\"defaultDatasource\":true"), "\(after)")
        }
    }
}
