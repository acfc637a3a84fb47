import KubeModel
import Render

/// Whether a live object is a stack's to write and to delete. Never assumed from a name:
/// an object in the stack's namespace is the stack's when the stack controls it (an owner
/// reference with its uid); a client Secret or a RoleBinding in another namespace, which no
/// owner reference can reach, when its labels name the stack's namespace, name and uid.
public enum Ownership {
    public static func owns(_ ctx: StackContext, _ object: Unstructured, resource: ResourceDescriptor) -> Bool {
        if let ref = object.metadata.controllerOwner {
            return ref.kind == ObservabilityStack.resource.kind && ref.uid == ctx.uid && object.metadata.namespace == ctx.namespace
        }
        // Client Secrets and the agents' RoleBindings in other namespaces.
        guard resource == Secret.resource || resource == CollectorRBAC.resource else { return false }
        return labelled(object.metadata.labels ?? [:], namespace: ctx.namespace, name: ctx.name, uid: ctx.uid)
    }

    /// A client Secret's labels name this stack. One written before the uid label existed
    /// is matched by namespace and name.
    public static func labelled(_ labels: [String: String], namespace: String?, name: String, uid: String?) -> Bool {
        guard labels[Labels.managedBy] == Labels.managerValue, labels[Annotations.stackNamespaceLabel] == namespace,
            (labels[Labels.stack] ?? labels[Labels.instance]) == Naming.shorten(name)
        else { return false }
        if let written = labels[Annotations.stackUIDLabel] { return written == uid }
        return true
    }

    /// Who holds an object, for messages: its controller, the stack its labels name, or nobody Vigil knows.
    public static func holder(of object: Unstructured) -> String {
        if let ref = object.metadata.controllerOwner {
            return "controlled by \(ref.kind) \(ref.name) (uid \(ref.uid))"
        }
        let l = object.metadata.labels ?? [:]
        if l[Labels.managedBy] == Labels.managerValue, let ns = l[Annotations.stackNamespaceLabel], let name = l[Labels.stack] ?? l[Labels.instance] {
            return "written by Vigil for stack \(ns)/\(name)\(l[Annotations.stackUIDLabel].map { " (uid \($0))" } ?? "")"
        }
        return "not managed by Vigil"
    }
}
