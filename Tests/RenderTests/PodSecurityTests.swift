import Foundation
import KubeModel
import Render
import TestSupport
import Testing

/// The Pod Security Standards (https://kubernetes.io/docs/concepts/security/pod-security-standards/),
/// written as test code: each check of the `baseline` and `restricted` levels as the page
/// states it, run over the pod specs Vigil renders. A violation is `level: check (what)`.
enum PodSecurity {
    /// Capabilities `baseline` lets a container add.
    static let baselineCapabilities: Set<String> = [
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    ]
    static let safeSysctls: Set<String> = [
        "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
        "net.ipv4.ip_local_reserved_ports", "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl", "net.ipv4.tcp_keepalive_probes",
    ]
    /// Volume types `restricted` allows.
    static let restrictedVolumes: Set<String> = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]

    static func containers(_ pod: JSONValue) -> [JSONValue] {
        (pod["initContainers"]?.arrayValue ?? []) + (pod["containers"]?.arrayValue ?? []) + (pod["ephemeralContainers"]?.arrayValue ?? [])
    }

    static func baseline(_ pod: JSONValue) -> [String] {
        var v: [String] = []
        let psc = pod["securityContext"]
        if psc?["windowsOptions"]?["hostProcess"] == true { v.append("HostProcess") }
        for key in ["hostNetwork", "hostPID", "hostIPC"] where pod[key] == true { v.append("Host Namespaces (\(key))") }
        for vol in pod["volumes"]?.arrayValue ?? [] where vol["hostPath"] != nil {
            v.append("HostPath Volumes (\(vol["name"]?.stringValue ?? ""): \(vol["hostPath"]?["path"]?.stringValue ?? ""))")
        }
        for (k, sel) in [("pod", psc?["seLinuxOptions"])] + containers(pod).map({ ($0["name"]?.stringValue ?? "", $0["securityContext"]?["seLinuxOptions"]) }) {
            guard let sel else { continue }
            if let t = sel["type"]?.stringValue, !["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"].contains(t) { v.append("SELinux (\(k))") }
            if sel["user"] != nil || sel["role"] != nil { v.append("SELinux (\(k))") }
        }
        if psc?["seccompProfile"]?["type"] == "Unconfined" { v.append("Seccomp (pod)") }
        for s in psc?["sysctls"]?.arrayValue ?? [] where !safeSysctls.contains(s["name"]?.stringValue ?? "") { v.append("Sysctls") }
        if let a = psc?["appArmorProfile"]?["type"]?.stringValue, a == "Unconfined" { v.append("AppArmor (pod)") }
        for c in containers(pod) {
            let name = c["name"]?.stringValue ?? ""
            let sc = c["securityContext"]
            if sc?["privileged"] == true { v.append("Privileged Containers (\(name))") }
            for cap in sc?["capabilities"]?["add"]?.arrayValue ?? [] where !baselineCapabilities.contains(cap.stringValue ?? "") {
                v.append("Capabilities (\(name) adds \(cap.stringValue ?? ""))")
            }
            for p in c["ports"]?.arrayValue ?? [] where (p["hostPort"]?.intValue ?? 0) != 0 { v.append("Host Ports (\(name))") }
            if let pm = sc?["procMount"]?.stringValue, pm != "Default" { v.append("/proc Mount Type (\(name))") }
            if sc?["seccompProfile"]?["type"] == "Unconfined" { v.append("Seccomp (\(name))") }
            if sc?["appArmorProfile"]?["type"] == "Unconfined" { v.append("AppArmor (\(name))") }
            if sc?["windowsOptions"]?["hostProcess"] == true { v.append("HostProcess (\(name))") }
        }
        return v
    }

    /// The checks `restricted` adds to `baseline`.
    static func restrictedOnly(_ pod: JSONValue) -> [String] {
        var v: [String] = []
        let psc = pod["securityContext"]
        for vol in pod["volumes"]?.arrayValue ?? [] {
            let type = vol.objectValue?.keys.first { $0 != "name" } ?? ""
            if !restrictedVolumes.contains(type) { v.append("Volume Types (\(vol["name"]?.stringValue ?? ""): \(type))") }
        }
        for c in containers(pod) {
            let name = c["name"]?.stringValue ?? ""
            let sc = c["securityContext"]
            if sc?["allowPrivilegeEscalation"] != false { v.append("Privilege Escalation (\(name))") }
            // Running as Non-root: the container's setting, else the pod's, must be true.
            let nonRoot = sc?["runAsNonRoot"] ?? psc?["runAsNonRoot"]
            if nonRoot != true { v.append("Running as Non-root (\(name))") }
            // Running as Non-root user: runAsUser, wherever set, is not 0.
            if sc?["runAsUser"] == 0 || (sc?["runAsUser"] == nil && psc?["runAsUser"] == 0) { v.append("Running as Non-root user (\(name))") }
            let seccomp = sc?["seccompProfile"]?["type"]?.stringValue ?? psc?["seccompProfile"]?["type"]?.stringValue
            if seccomp != "RuntimeDefault" && seccomp != "Localhost" { v.append("Seccomp (\(name))") }
            let drops = (sc?["capabilities"]?["drop"]?.arrayValue ?? []).compactMap(\.stringValue)
            if !drops.contains("ALL") { v.append("Capabilities (\(name) does not drop ALL)") }
            for cap in sc?["capabilities"]?["add"]?.arrayValue ?? [] where cap.stringValue != "NET_BIND_SERVICE" {
                v.append("Capabilities (\(name) adds \(cap.stringValue ?? ""))")
            }
        }
        return v
    }

    static func restricted(_ pod: JSONValue) -> [String] { baseline(pod) + restrictedOnly(pod) }
}

@Suite struct PodSecurityTests {
    static func podSpecs(_ env: String, _ edit: (inout StackSpec) -> Void = { _ in }) throws -> JSONObject {
        let input = try String(contentsOf: repoRoot.appendingPathComponent("examples/\(env).yaml"), encoding: .utf8)
        var stack = try #require(try StackFile.parse(input).first)
        edit(&stack.spec)
        var pods: JSONObject = [:]
        for o in try DesiredState.render(StackContext(stack)).objects where o.resource.kind == "DaemonSet" || o.resource.kind == "Deployment" {
            pods[o.resource.kind] = o.body["spec"]?["template"]?["spec"]
        }
        return pods
    }

    static let namespaces = ["development": "fba-dev", "staging": "fba-staging", "production": "fba-prod"]

    /// Agents that read host metrics and pod logs: the exact deviations, each needed.
    static func agentDeviations(_ env: String) -> [String] {
        [
            // Host metrics read the node's /proc and /sys (world-readable; no privilege).
            "HostPath Volumes (host-proc: /proc)",
            "HostPath Volumes (host-sys: /sys)",
            // Pod logs are files of the node, owned by root, mode 0640 or 0600.
            "HostPath Volumes (varlogpods: /var/log/pods)",
            // The filelog checkpoints (and persistent queues): the stack's own directory.
            "HostPath Volumes (storage: /var/lib/vigil/\(namespaces[env]!)/fba-bench)",
            // Reading files other users own: that capability, and nothing else.
            "Capabilities (otc-container adds DAC_READ_SEARCH)",
        ]
    }
    static let agentRestrictedOnly: [String] = [
        "Volume Types (host-proc: hostPath)",
        "Volume Types (host-sys: hostPath)",
        "Volume Types (varlogpods: hostPath)",
        "Volume Types (storage: hostPath)",
        // The runtime writes pod logs as root: the reader is root, with one capability.
        "Running as Non-root (otc-container)",
        "Running as Non-root user (otc-container)",
        "Capabilities (otc-container adds DAC_READ_SEARCH)",
    ]

    @Test(arguments: ["development", "staging", "production"])
    func agentsDeviateOnlyWhereTheirReceiversNeedIt(_ env: String) throws {
        let agent = try #require(try Self.podSpecs(env)["DaemonSet"])
        #expect(PodSecurity.baseline(agent) == Self.agentDeviations(env))
        #expect(PodSecurity.restricted(agent) == Self.agentDeviations(env) + Self.agentRestrictedOnly)
        // The settings behind the rest of `restricted`, stated.
        let sc = agent["containers"]?.arrayValue?.first?["securityContext"]
        #expect(sc?["readOnlyRootFilesystem"] == true && sc?["allowPrivilegeEscalation"] == false && sc?["privileged"] == false)
        #expect(sc?["capabilities"]?["drop"] == ["ALL"])
        #expect(agent["securityContext"]?["seccompProfile"]?["type"] == "RuntimeDefault")
        // k8sattributes (on by default) is the token's one user.
        #expect(agent["automountServiceAccountToken"] == true)
        // One writable mount: the storage directory.
        let mounts = agent["containers"]?.arrayValue?.first?["volumeMounts"]?.arrayValue ?? []
        #expect(mounts.filter { $0["readOnly"] != true }.map { $0["mountPath"]?.stringValue ?? "" } == ["/var/lib/otelcol/storage"])
    }

    @Test func theTokenIsMountedOnlyForKubernetesAttributes() throws {
        let agent = try #require(
            try Self.podSpecs("production") { spec in
                var c = spec.collector ?? CollectorSpec()
                c.kubernetesAttributes = KubernetesAttributesSpec(enabled: false)
                spec.collector = c
            }["DaemonSet"])
        #expect(agent["automountServiceAccountToken"] == false)
        // And the gateway never has one.
        #expect(try Self.podSpecs("production")["Deployment"]?["automountServiceAccountToken"] == false)
    }

    /// Persistent queues without pod logs: the agent writes its own directory of the node,
    /// created by the kubelet as root's, so it runs as uid 0, with no capability at all.
    @Test func persistentQueuesAloneRunAsRootWithNoCapability() throws {
        let agent = try #require(
            try Self.podSpecs("staging") { spec in
                var c = spec.collector ?? CollectorSpec()
                c.fileLogs = FileLogsSpec(enabled: false)
                c.hostMetrics = HostMetricsSpec(enabled: false)
                spec.collector = c
            }["DaemonSet"])
        #expect(PodSecurity.baseline(agent) == ["HostPath Volumes (storage: /var/lib/vigil/fba-staging/fba-bench)"])
        let sc = agent["containers"]?.arrayValue?.first?["securityContext"]
        #expect(sc?["runAsUser"] == 0 && sc?["capabilities"] == ["drop": ["ALL"]] && sc?["allowPrivilegeEscalation"] == false)
        #expect(agent["volumes"]?.arrayValue?.last?["hostPath"]?["type"] == "DirectoryOrCreate")
    }

    @Test func theGatewayMeetsRestricted() throws {
        let gateway = try #require(try Self.podSpecs("production")["Deployment"])
        #expect(PodSecurity.restricted(gateway) == [])
    }

    @Test func hostMetricsAloneRunAsNonRootAndOnlyMountProcAndSys() throws {
        let agent = try #require(
            try Self.podSpecs("staging") { spec in
                var c = spec.collector ?? CollectorSpec()
                c.fileLogs = FileLogsSpec(enabled: false)
                c.sendingQueue = SendingQueueSpec(persistent: false)
                spec.collector = c
            }["DaemonSet"])
        #expect(PodSecurity.baseline(agent) == ["HostPath Volumes (host-proc: /proc)", "HostPath Volumes (host-sys: /sys)"])
        #expect(PodSecurity.restrictedOnly(agent) == ["Volume Types (host-proc: hostPath)", "Volume Types (host-sys: hostPath)"])
    }

    @Test func withNeitherHostMetricsNorLogsAgentsMeetRestricted() throws {
        let agent = try #require(
            try Self.podSpecs("staging") { spec in
                var c = spec.collector ?? CollectorSpec()
                c.fileLogs = FileLogsSpec(enabled: false)
                c.hostMetrics = HostMetricsSpec(enabled: false)
                c.sendingQueue = SendingQueueSpec(persistent: false)
                spec.collector = c
            }["DaemonSet"])
        #expect(PodSecurity.restricted(agent) == [])
    }

    /// The evaluator itself finds what it should (a check that never fires proves nothing).
    @Test func theEvaluatorFindsEachViolation() {
        let bad: JSONValue = [
            "hostNetwork": true,
            "volumes": [["name": "root", "hostPath": ["path": "/"]]],
            "containers": [["name": "c", "securityContext": ["privileged": true, "capabilities": ["add": ["SYS_ADMIN"]]], "ports": [["containerPort": 1, "hostPort": 1]]]],
        ]
        #expect(PodSecurity.baseline(bad) == ["Host Namespaces (hostNetwork)", "HostPath Volumes (root: /)", "Privileged Containers (c)", "Capabilities (c adds SYS_ADMIN)", "Host Ports (c)"])
        #expect(PodSecurity.restrictedOnly(bad).count == 6)
    }
}
