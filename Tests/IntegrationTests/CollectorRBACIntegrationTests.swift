#if canImport(Glibc)
import Glibc
#endif
import Foundation
import KubeClient
import KubeModel
import Testing

/// On the real API server: the agents' ServiceAccount may list and watch pods (and the
/// replicasets behind deployment names) in the namespaces its stack serves, and nothing
/// more, as `kubectl auth can-i` answers for that ServiceAccount; the rights come and go
/// with the k8sattributes processor and with a client namespace's consent.
@Suite(.serialized) struct CollectorRBACIntegrationTests {
    @Test func theCollectorsServiceAccountMayListPodsInTheServedNamespacesAndNothingMore() async throws {
        // Its own plane: Vigil watches every namespace (consent needs it).
        try await withOwnControlPlane(name: "collector-rbac") { plane in
            try await plane.installCRD()
            try await scenario(plane)
        }
    }

    /// `kubectl auth can-i VERB RESOURCE -n NS` as the agents' ServiceAccount.
    static func can(_ plane: ControlPlane, _ verb: String, _ resource: String, _ namespace: String?) async throws -> Bool {
        var args = ["auth", "can-i", verb, resource, "--as=system:serviceaccount:cr-own:app-collector"]
        args += namespace.map { ["-n", $0] } ?? ["--all-namespaces"]
        // can-i answers "no" with exit status 1; any other failure is an error, not a no.
        do {
            let answer = try await plane.kubectlArgs(args).trimmingCharacters(in: .whitespacesAndNewlines)
            guard answer == "yes" else { throw CommandError(description: "kubectl auth can-i answered \"\(answer)\"") }
            return true
        } catch let e as CommandError where e.description.contains(" exited 1: ") && Self.answersNo(e.description) {
            return false
        }
    }

    /// The last line of a failed can-i's output is its answer (warnings come before it).
    static func answersNo(_ output: String) -> Bool {
        let last = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").last ?? ""
        return last == "no" || last.hasSuffix(": no")
    }

    func scenario(_ plane: ControlPlane) async throws {
        // The ClusterRole Vigil binds, as installed with it.
        try await plane.kubectl("apply", "-f", repoRoot.appendingPathComponent("manifests/base/collector-rbac.yaml").path)
        for n in ["cr-own", "cr-client", "cr-other"] { try await plane.createNamespace(n) }
        try await plane.accept(["cr-own/app"], in: "cr-client")
        try await withVigil(kubeconfig: plane.kubeconfig, namespace: nil) { vigil in
            let clients = "  ingest:\n    basicAuth:\n      clients:\n      - {name: api, namespace: cr-client}\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: "cr-own", environment: "staging", extra: clients))
            let binding = "cr-own.app-collector"
            for ns in ["cr-own", "cr-client"] {
                _ = try await eventually("the RoleBinding in \(ns)") { () -> Bool? in
                    (try? await plane.kubectl("get", "rolebinding", binding, "-n", ns, "-o", "name")) != nil ? true : nil
                }
            }
            // What k8sattributes needs, where the stack serves.
            for ns in ["cr-own", "cr-client"] {
                for (verb, resource) in [("list", "pods"), ("watch", "pods"), ("list", "replicasets.apps"), ("watch", "replicasets.apps")] {
                    #expect(try await Self.can(plane, verb, resource, ns), "\(verb) \(resource) in \(ns)")
                }
            }
            // Nothing more: no other namespace, no cluster-wide list, no other verb or kind.
            #expect(try await !Self.can(plane, "list", "pods", "cr-other"))
            #expect(try await !Self.can(plane, "list", "pods", nil))
            for (verb, resource) in [
                ("get", "pods"), ("create", "pods"), ("delete", "pods"), ("get", "pods/log"), ("create", "pods/exec"), ("list", "secrets"), ("get", "secrets"),
                ("list", "configmaps"), ("list", "deployments.apps"), ("patch", "replicasets.apps"), ("list", "namespaces"), ("list", "nodes"),
                ("list", "observabilitystacks.observability.vigil.dev"),
            ] {
                #expect(try await !Self.can(plane, verb, resource, "cr-own"), "\(verb) \(resource)")
            }
            // The agents mount the token (k8sattributes is on by default).
            let ds = try await plane.kubectl("get", "daemonset", "app-collector", "-n", "cr-own", "-o", "jsonpath={.spec.template.spec.automountServiceAccountToken}")
            #expect(ds == "true")

            // Consent withdrawn: that namespace's binding goes, the right with it.
            try await plane.accept([], in: "cr-client")
            _ = try await eventually("the binding in cr-client removed") { () -> Bool? in
                (try? await plane.kubectl("get", "rolebinding", binding, "-n", "cr-client", "-o", "name")) == nil ? true : nil
            }
            #expect(try await !Self.can(plane, "list", "pods", "cr-client"))
            #expect(try await Self.can(plane, "list", "pods", "cr-own"))

            // k8sattributes off: no binding, no token.
            let off = clients + "  collector:\n    kubernetesAttributes: {enabled: false}\n"
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: "cr-own", environment: "staging", extra: off))
            _ = try await eventually("the binding in cr-own removed") { () -> Bool? in
                (try? await plane.kubectl("get", "rolebinding", binding, "-n", "cr-own", "-o", "name")) == nil ? true : nil
            }
            #expect(try await !Self.can(plane, "list", "pods", "cr-own"))
            _ = try await eventually("the token unmounted") { () -> Bool? in
                try await plane.kubectl("get", "daemonset", "app-collector", "-n", "cr-own", "-o", "jsonpath={.spec.template.spec.automountServiceAccountToken}") == "false" ? true : nil
            }

            // On again with consent, then the stack deleted: the client namespace's binding
            // goes with it (the finalizer; no owner reference crosses namespaces).
            try await plane.accept(["cr-own/app"], in: "cr-client")
            try await plane.kubectl("apply", "-f", "-", input: stackYAML(name: "app", namespace: "cr-own", environment: "staging", extra: clients))
            _ = try await eventually("the binding in cr-client again") { () -> Bool? in
                (try? await plane.kubectl("get", "rolebinding", binding, "-n", "cr-client", "-o", "name")) != nil ? true : nil
            }
            try await plane.kubectl("delete", "observabilitystack", "app", "-n", "cr-own")
            _ = try await eventually("the binding in cr-client removed with the stack") { () -> Bool? in
                (try? await plane.kubectl("get", "rolebinding", binding, "-n", "cr-client", "-o", "name")) == nil ? true : nil
            }
            #expect(try await !Self.can(plane, "list", "pods", "cr-client"))
            #expect(await vigil.terminate() == 0)
        }
    }
}
