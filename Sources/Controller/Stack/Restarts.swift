import Foundation
import KubeModel
import Logging
import Render
import Rotation

/// Opt-in restarts: a workload in a client's namespace annotated
/// `observability.vigil.dev/restart-on-rotation: <stack>` whose pod template reads the
/// stack's client Secret is restarted (its template's `restartedAt` annotation bumped, as
/// `kubectl rollout restart` does) once that Secret carries new content that the collector
/// already accepts: a credential generation after the rollout, a CA rollover's bundle or
/// client certificate, a renewed client certificate.
///
/// Level-based, and cheap when there is nothing to do: the workloads of a namespace are
/// listed only while a pod there still predates what its client Secret carries, and a
/// workload is patched only when its template does not carry that moment yet.
struct Restarter: Sendable {
    let writer: any ClusterWriter

    /// When each published client's Secret content last changed.
    static func changedAt(
        _ ctx: StackContext, credentials: CredentialReconciler.Outcome?, certificates: CertificateReconciler.Outcome?, published: Set<String>
    ) -> [String: Date] {
        var result: [String: Date] = [:]
        for c in ctx.spec.clients where published.contains(c.name) {
            var at = credentials?.state.rotatedAt
            if let cert = certificates?.changedAt[c.name] { at = max(at ?? cert, cert) }
            result[c.name] = at
        }
        return result
    }

    /// Whether a workload's annotation names this stack (`<stack>` in the stack's own
    /// namespace, or `<namespace>/<stack>`; several may be listed, comma-separated).
    static func optedIn(_ w: WorkloadSecretUse, _ ctx: StackContext) -> Bool {
        let names = (w.metadata.annotations?[Annotations.restartOnRotation] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return names.contains(ctx.key) || (w.metadata.namespace == ctx.namespace && names.contains(ctx.name))
    }

    /// Restarts the opted-in workloads that still run pods from before their client
    /// Secret's last change; returns what was restarted (`Kind namespace/name`). A failure
    /// (no permission to list or patch a kind, say) is logged and leaves the rest as it is.
    func restart(_ ctx: StackContext, world: World, changedAt: [String: Date], log: Logger) async -> [String] {
        var restarted: [String] = []
        for client in world.writableClients {
            guard let since = changedAt[client.name] else { continue }
            let stale = world.consumers.filter { $0.metadata.namespace == client.namespace && $0.started(atOrBefore: since) }
            guard !stale.isEmpty else { continue }
            let stamp = since.formatted(.iso8601)
            for kind in WorkloadSecretUse.kinds {
                do {
                    for w in try await writer.listWorkloads(kind, namespace: client.namespace)
                    where Self.optedIn(w, ctx) && w.secrets.contains(ctx.names.otlpClient) && w.templateAnnotations[Annotations.restartedAt] != stamp {
                        _ = try await writer.patchTemplateAnnotations(kind, namespace: client.namespace, name: w.metadata.name ?? "", annotations: [Annotations.restartedAt: stamp])
                        restarted.append("\(kind.kind) \(client.namespace)/\(w.metadata.name ?? "")")
                    }
                } catch {
                    log.warning("opt-in restarts: \(kind.kind) in namespace \(client.namespace) could not be listed or patched", metadata: ["error": "\(error)"])
                }
            }
        }
        return restarted.sorted()
    }
}
