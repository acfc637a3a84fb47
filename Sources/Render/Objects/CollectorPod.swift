import KubeModel

/// The pod template of a collector (agent or gateway).
public enum CollectorPod {
    public static let containerName = "otc-container"

    static func port(_ name: String, _ port: Int) -> JSONValue {
        // Server-side apply keys container ports by port and protocol: protocol must be explicit.
        ["name": .string(name), "containerPort": .int(port), "protocol": "TCP"]
    }

    /// The selector labels of one role's pods.
    public static func selector(_ ctx: StackContext, role: CollectorRole) -> [String: String] {
        [Labels.instance: Naming.shorten(ctx.name), Labels.component: role.rawValue]
    }

    public static func template(_ ctx: StackContext, role: CollectorRole, configMap: String, configHash: String) -> JSONValue {
        let eff = ctx.spec
        let inputs = CollectorInputs(ctx, role: role)
        let name = ctx.name
        let hostAccess = role == .agent && (eff.hostMetrics || (eff.fileLogs && ctx.raw.exporters?.loki != nil))

        var env: [JSONValue] = [
            ["name": "K8S_NODE_NAME", "valueFrom": ["fieldRef": ["fieldPath": "spec.nodeName"]]],
            ["name": "K8S_POD_NAME", "valueFrom": ["fieldRef": ["fieldPath": "metadata.name"]]],
            // Keeps the Go runtime's heap under the container limit, beside memory_limiter.
            ["name": "GOMEMLIMIT", "value": .string("\(eff.memoryLimitMiB)MiB")],
        ]
        for e in inputs.env {
            env.append(["name": .string(e.name), "valueFrom": ["secretKeyRef": ["name": .string(e.secret), "key": .string(e.key)]]])
        }
        var mounts: [JSONValue] = [["name": "config", "mountPath": .string(CollectorPaths.configDir), "readOnly": true]]
        var volumes: [JSONValue] = [["name": "config", "configMap": ["name": .string(configMap)]]]
        for m in inputs.mounts {
            mounts.append(["name": .string(m.volume), "mountPath": .string(m.path), "readOnly": true])
            var secret: [String: JSONValue] = ["secretName": .string(m.secret), "defaultMode": 0o440]
            if let items = m.items {
                secret["items"] = .array(items.keys.sorted().map { ["key": .string($0), "path": .string(items[$0]!)] })
            }
            volumes.append(["name": .string(m.volume), "secret": .object(secret)])
        }
        if role == .agent && eff.hostMetrics {
            mounts.append(["name": "hostfs", "mountPath": .string(CollectorPaths.hostRoot), "readOnly": true, "mountPropagation": "HostToContainer"])
            volumes.append(["name": "hostfs", "hostPath": ["path": "/"]])
        }
        if role == .agent && eff.fileLogs && ctx.raw.exporters?.loki != nil {
            mounts.append(["name": "varlogpods", "mountPath": .string(CollectorPaths.podLogs), "readOnly": true])
            volumes.append(["name": "varlogpods", "hostPath": ["path": .string(CollectorPaths.podLogs)]])
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
                (ctx.raw.collector?.resources?.requests ?? ["cpu": "100m", "memory": "\(eff.memoryLimitMiB / 4)Mi"]).mapValues(JSONValue.string)
            ),
            "limits": .object((ctx.raw.collector?.resources?.limits ?? ["memory": "\(defaultLimit)Mi"]).mapValues(JSONValue.string)),
        ]
        // Reading host files and other pods' logs needs root; everything else is dropped.
        var security: [String: JSONValue] = [
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "capabilities": ["drop": ["ALL"]],
        ]
        if hostAccess {
            security["runAsUser"] = 0
            security["runAsNonRoot"] = false
        } else {
            security["runAsUser"] = 10001
            security["runAsGroup"] = 10001
            security["runAsNonRoot"] = true
        }
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
            "securityContext": .object(security),
        ]
        var labels = Labels.forStack(ctx, component: role.rawValue)
        labels[Labels.component] = role.rawValue
        var spec: [String: JSONValue] = [
            "serviceAccountName": .string(Naming.collector(name)),
            // No component of the collector talks to the API server (resource detection uses
            // the env and system detectors): no token in the pod to steal.
            "automountServiceAccountToken": false,
            "securityContext": ["seccompProfile": ["type": "RuntimeDefault"], "fsGroup": 10001],
            "terminationGracePeriodSeconds": 30,
            "containers": [container],
            "volumes": .array(volumes),
        ]
        if role == .agent {
            if let t = ctx.raw.collector?.tolerations { spec["tolerations"] = (try? jsonValue(of: t)) ?? [] }
            if let n = ctx.raw.collector?.nodeSelector { spec["nodeSelector"] = .object(n.mapValues(JSONValue.string)) }
            spec["priorityClassName"] = nil
        }
        return [
            "metadata": [
                "labels": .object(labels.mapValues(JSONValue.string)),
                "annotations": .object([Annotations.configHash: .string(configHash)]),
            ],
            "spec": .object(spec),
        ]
    }
}

