import KubeModel

/// The pod template of a collector (agent or gateway).
public enum CollectorPod {
    public static let containerName = "otc-container"

    static func port(_ name: String, _ port: Int) -> JSONValue {
        // Server-side apply keys container ports by port and protocol: protocol must be explicit.
        ["name": .string(name), "containerPort": .int(port), "protocol": "TCP"]
    }

    /// The selector labels of one role's pods (the legacy ones where its live workload
    /// was created with them).
    public static func selector(_ ctx: StackContext, role: CollectorRole) -> [String: String] {
        [ctx.legacySelectors.contains(role) ? Labels.instance : Labels.stack: Naming.shorten(ctx.name), Labels.component: role.rawValue]
    }

    /// A directory of the node that a collector reads, mounted read-only.
    public struct HostMount: Sendable, Hashable {
        public var volume: String
        public var hostPath: String
        public var mountPath: String
    }

    /// Whether the agents read other pods' log files (which only root may read on most nodes).
    public static func readsPodLogs(_ ctx: StackContext, role: CollectorRole) -> Bool {
        role == .agent && ctx.spec.fileLogs && ctx.raw.exporters?.loki != nil
    }

    /// The node's directories a collector mounts, each for one receiver, never `/`: `/proc`
    /// and `/sys` for host metrics (under the receiver's `root_path`), `/var/log/pods` for
    /// pod logs.
    public static func hostMounts(_ ctx: StackContext, role: CollectorRole) -> [HostMount] {
        guard role == .agent else { return [] }
        var mounts: [HostMount] = []
        if ctx.spec.hostMetrics {
            mounts.append(HostMount(volume: "host-proc", hostPath: "/proc", mountPath: CollectorPaths.hostRoot + "/proc"))
            mounts.append(HostMount(volume: "host-sys", hostPath: "/sys", mountPath: CollectorPaths.hostRoot + "/sys"))
        }
        if readsPodLogs(ctx, role: role) {
            mounts.append(HostMount(volume: "varlogpods", hostPath: CollectorPaths.podLogs, mountPath: CollectorPaths.podLogs))
        }
        return mounts
    }

    /// The collector's writable directory, where it keeps anything on disk
    /// (`CollectorConfig.usesStorage`): for agents a directory of the node, one per stack,
    /// created by the kubelet; for the gateway an emptyDir as large as its queue may grow.
    public static func storageVolume(_ ctx: StackContext, role: CollectorRole) -> JSONValue? {
        guard CollectorConfig.usesStorage(ctx, role: role) else { return nil }
        switch role {
        case .agent:
            return ["name": "storage", "hostPath": ["path": .string(CollectorPaths.hostStorage(namespace: ctx.namespace, stack: ctx.name)), "type": "DirectoryOrCreate"]]
        case .gateway:
            let mib = Batching.queueMiB(size: ctx.spec.queueSize, maxBatchItems: ctx.spec.batchMaxSize) + 64
            return ["name": "storage", "emptyDir": ["sizeLimit": .string("\(mib)Mi")]]
        }
    }

    /// Whether the agents mount a ServiceAccount token: only for k8sattributes.
    public static func mountsToken(_ ctx: StackContext, role: CollectorRole) -> Bool {
        role == .agent && !CollectorConfig.kubernetesAttributeIDs(ctx).isEmpty
    }

    /// Linux capabilities the agents keep when they read pod logs: reading files the
    /// runtime wrote for other users, nothing else (no writes, no ownership, no network).
    public static let logReaderCapabilities = ["DAC_READ_SEARCH"]

    /// The container's security context. Everything is dropped and the root filesystem is
    /// read-only. Host metrics read the world-readable `/proc` and `/sys` as a non-root user.
    /// Pod log files belong to root with mode 0640 or 0600 on containerd and CRI-O, so
    /// agents that read them run as uid 0 with one capability, `DAC_READ_SEARCH`. Agents
    /// that keep data on the node write to their own directory there, which the kubelet
    /// creates owned by root (mode 0755): they run as uid 0 too, the directory's owner,
    /// with no capability at all (none is needed to write what one owns).
    public static func securityContext(_ ctx: StackContext, role: CollectorRole) -> JSONValue {
        var security: JSONObject = [
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "privileged": false,
        ]
        if readsPodLogs(ctx, role: role) {
            security["capabilities"] = ["drop": ["ALL"], "add": .array(logReaderCapabilities.map(JSONValue.string))]
            security["runAsUser"] = 0
            security["runAsGroup"] = 0
            security["runAsNonRoot"] = false
        } else if role == .agent && CollectorConfig.usesStorage(ctx, role: role) {
            security["capabilities"] = ["drop": ["ALL"]]
            security["runAsUser"] = 0
            security["runAsGroup"] = 0
            security["runAsNonRoot"] = false
        } else {
            security["capabilities"] = ["drop": ["ALL"]]
            security["runAsUser"] = 10001
            security["runAsGroup"] = 10001
            security["runAsNonRoot"] = true
        }
        return .object(security)
    }

    /// The pod's own facts, from the downward API: the node (the telemetry's host.name).
    public static let fieldEnv: [(name: String, fieldPath: String)] = [("K8S_NODE_NAME", "spec.nodeName"), ("K8S_POD_NAME", "metadata.name")]

    public static func template(_ ctx: StackContext, role: CollectorRole, configMap: String, configHash: String) -> JSONValue {
        let eff = ctx.spec
        let inputs = CollectorInputs(ctx, role: role)
        let name = ctx.name

        var env: [JSONValue] = fieldEnv.map { ["name": .string($0.name), "valueFrom": ["fieldRef": ["fieldPath": .string($0.fieldPath)]]] }
        // Keeps the Go runtime's heap under the container limit, beside memory_limiter.
        env.append(["name": "GOMEMLIMIT", "value": .string("\(eff.memoryLimitMiB)MiB")])
        for e in inputs.env {
            env.append(["name": .string(e.name), "valueFrom": ["secretKeyRef": ["name": .string(e.secret), "key": .string(e.key)]]])
        }
        var mounts: [JSONValue] = [["name": "config", "mountPath": .string(CollectorPaths.configDir), "readOnly": true]]
        var volumes: [JSONValue] = [["name": "config", "configMap": ["name": .string(configMap)]]]
        for m in inputs.mounts {
            mounts.append(["name": .string(m.volume), "mountPath": .string(m.path), "readOnly": true])
            var secret: JSONObject = ["secretName": .string(m.secret), "defaultMode": 0o440]
            if let items = m.items {
                secret["items"] = .array(items.keys.sorted().map { ["key": .string($0), "path": .string(items[$0]!)] })
            }
            volumes.append(["name": .string(m.volume), "secret": .object(secret)])
        }
        for m in hostMounts(ctx, role: role) {
            mounts.append(["name": .string(m.volume), "mountPath": .string(m.mountPath), "readOnly": true])
            volumes.append(["name": .string(m.volume), "hostPath": ["path": .string(m.hostPath), "type": "Directory"]])
        }
        // The one writable mount.
        if let storage = storageVolume(ctx, role: role) {
            mounts.append(["name": "storage", "mountPath": .string(CollectorPaths.storage)])
            volumes.append(storage)
        }

        var ports: [JSONValue] = [port("otlp-grpc", CollectorPorts.otlpGRPC)]
        if role == .agent {
            ports += [port("otlp-http", CollectorPorts.otlpHTTP), port("metrics", CollectorPorts.metrics)]
        }
        ports.append(port("telemetry", CollectorPorts.telemetry))
        ports.append(port("health", CollectorPorts.health))

        let probe: JSONValue = ["httpGet": ["path": "/", "port": .int(CollectorPorts.health)], "periodSeconds": 10, "timeoutSeconds": 5]
        let defaultLimit = (eff.memoryLimitMiB * 5 + 3) / 4
        let resources: JSONValue = [
            "requests": .object(
                (ctx.raw.collector?.resources?.requests ?? ["cpu": "100m", "memory": "\(eff.memoryLimitMiB / 4)Mi"]).jsonObject
            ),
            "limits": .object((ctx.raw.collector?.resources?.limits ?? ["memory": "\(defaultLimit)Mi"]).jsonObject),
        ]
        let container: JSONValue = [
            "name": .string(containerName),
            "image": .string(eff.image),
            "imagePullPolicy": "IfNotPresent",
            "args": [.string("--config=\(CollectorPaths.configFile)")],
            "env": .array(env),
            "ports": .array(ports),
            "volumeMounts": .array(mounts),
            "resources": resources,
            "livenessProbe": probe,
            "readinessProbe": probe,
            "securityContext": securityContext(ctx, role: role),
        ]
        // The stack's labels, and the selector's over them.
        var labels: JSONObject = [:]
        labels.reserveCapacity(8)
        Labels.stamp(&labels, ctx, component: role.rawValue)
        for (key, value) in selector(ctx, role: role) { labels[key] = .string(value) }
        var spec: JSONObject = [
            "serviceAccountName": .string(Naming.collector(name)),
            // Only k8sattributes talks to the API server (resource detection uses the env and
            // system detectors): without it, no token in the pod to steal. Its token may list
            // and watch pods and replicasets in the served namespaces, nothing else.
            "automountServiceAccountToken": .bool(mountsToken(ctx, role: role)),
            "securityContext": ["seccompProfile": ["type": "RuntimeDefault"], "fsGroup": 10001],
            "terminationGracePeriodSeconds": 30,
            "containers": [container],
            "volumes": .array(volumes),
        ]
        if role == .agent {
            if let t = ctx.raw.collector?.tolerations { spec["tolerations"] = (try? jsonValue(of: t)) ?? [] }
            if let n = ctx.raw.collector?.nodeSelector { spec["nodeSelector"] = .object(n.jsonObject) }
            // The operator's, never the stack's.
            if let p = ctx.spec.agentPriorityClass { spec["priorityClassName"] = .string(p) }
        }
        return [
            "metadata": [
                "labels": .object(labels),
                "annotations": .object([Annotations.configHash: .string(configHash)]),
            ],
            "spec": .object(spec),
        ]
    }
}

