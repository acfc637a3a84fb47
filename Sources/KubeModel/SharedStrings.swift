/// The metadata strings that every object Vigil owns repeats: label and annotation keys,
/// the collector's name label, the owner reference's group and kind. Decoded metadata
/// (`ObjectMeta(json:)`) takes them from here, so the caches hold one copy of each instead
/// of one per object: at 500 stacks, 11,000 objects each carried about ten of them, 80
/// bytes apiece on the heap (BENCHMARKS.md, P3). A fixed set, read without a lock; a
/// string that is not in it is kept as decoded. A unit test checks that Render's
/// vocabulary is here.
public enum SharedStrings {
    /// Strings of up to 15 UTF-8 bytes are stored inline in `String` and cost nothing to
    /// repeat: they are not looked up.
    static let inlineBytes = 15

    public static let pool: Set<String> = {
        let vigil = "observability.vigil.dev/"
        let vigilKeys = [
            "desired-hash", "config-hash", "htpasswd-hash", "rotate-certificate", "rotate-credentials", "ca-phase", "rotated-for", "issuer-serial",
            "trust-bundle-hash", "credential-generation", "credential-phase", "phase-since", "rotated-at", "published-clients",
            "rotation-request-handled", "environment", "stack-namespace", "stack-uid", "accept-stacks", "restart-on-rotation", "restartedAt", "scrape",
            "client-secrets", "stack", "v1alpha1",
        ]
        return Set(
            vigilKeys.map { vigil + $0 } + [
                "app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/name", "app.kubernetes.io/component",
                "app.kubernetes.io/part-of", "app.kubernetes.io/version", "opentelemetry-collector", "ObservabilityStack", "grafana_dashboard",
                "grafana_datasource", "deprecated.daemonset.template.generation", "vigil.dev/rotate-credentials",
            ])
    }()

    /// The pool's copy of `s` when it has one, else `s`. The copy must also have the same
    /// bytes: `String` equality is canonical equivalence, and the cache keeps exactly what
    /// the server sent.
    @inline(__always)
    public static func shared(_ s: String) -> String {
        guard s.utf8.count > inlineBytes, let i = pool.firstIndex(of: s) else { return s }
        let copy = pool[i]
        return copy.utf8.elementsEqual(s.utf8) ? copy : s
    }
}
