import KubeModel

/// One object Vigil wants to exist, as JSON for server-side apply, with a hash of its
/// content to recognise it unchanged.
public struct DesiredObject: Sendable, Hashable {
    public var resource: ResourceDescriptor
    public var namespace: String?
    public var name: String
    public var body: JSONValue
    public var hash: String

    public init(resource: ResourceDescriptor, namespace: String?, name: String, body: JSONValue) throws {
        self.resource = resource
        self.namespace = namespace
        self.name = name
        // The hash covers everything but itself; it is then written into the annotations.
        let h = sha256Hex(body.serialized())
        var b = body
        if case .object(var o) = b, case .object(var meta)? = o["metadata"] {
            var ann = meta["annotations"]?.objectValue ?? [:]
            ann[Labels.desiredHashAnnotation] = .string(h)
            meta["annotations"] = .object(ann)
            o["metadata"] = .object(meta)
            b = .object(o)
        }
        self.body = b
        self.hash = h
    }

    public init(_ object: some KubeResource) throws {
        try self.init(
            resource: type(of: object).resource,
            namespace: object.metadata.namespace,
            name: object.metadata.name ?? "",
            body: try jsonValue(of: object)
        )
    }

    public var key: String { "\(resource.plural)/\(namespace ?? "")/\(name)" }
}

/// Material the collector reads at start that is not in the spec (certificates,
/// htpasswd): only its hash enters the pod template, so that a change rolls the pods.
public struct RenderInputs: Sendable, Hashable {
    public var mountedMaterialHash: String
    /// sha256 of the htpasswd file, recorded on the agents' pod template so that the
    /// rollout of a given file can be told from the DaemonSet alone.
    public var htpasswdHash: String
    /// The API server's real addresses, for the NetworkPolicy's egress (empty offline).
    public var apiServer: [APIServerEndpoint]
    /// The Prometheus Operator's kinds the cluster serves (`prometheusrules`,
    /// `servicemonitors`): with PrometheusRule, rules go there; else into a ConfigMap.
    public var monitoringKinds: Set<String>
    /// The Alertmanager receivers' secrets, read from the user's Secrets; nil offline, where
    /// the Alertmanager Secret is the operator's to make.
    public var alertSecrets: AlertReceiverSecrets?
    public init(
        mountedMaterialHash: String = "", htpasswdHash: String = "", apiServer: [APIServerEndpoint] = [], monitoringKinds: Set<String> = [],
        alertSecrets: AlertReceiverSecrets? = nil
    ) {
        self.mountedMaterialHash = mountedMaterialHash
        self.htpasswdHash = htpasswdHash
        self.apiServer = apiServer
        self.monitoringKinds = monitoringKinds
        self.alertSecrets = alertSecrets
    }
}

/// Everything one stack becomes, from its spec alone: a pure function.
public enum DesiredState {
    /// The desired objects of a validated stack. A disabled feature yields no objects, so
    /// that the reconciler prunes them.
    public static func render(_ stack: ObservabilityStack, inputs: RenderInputs = RenderInputs()) throws -> RenderedStack {
        let name = stack.metadata.name ?? ""
        let eff = EffectiveSpec(stack.spec)
        var bodies: [(ResourceDescriptor, String, JSONValue)] = []

        let agentYAML = try YAMLText.document(CollectorConfig.agent(stack))
        let agentHash = sha256Hex(Array((agentYAML + "\n" + inputs.mountedMaterialHash).utf8))
        bodies.append((Kinds.serviceAccount, "serviceaccount", Workloads.serviceAccount(stack)))
        bodies.append((Kinds.configMap, "collector", Workloads.configMap(name: Naming.collector(name), config: agentYAML)))
        bodies.append((Kinds.service, "collector", Workloads.service(stack)))
        bodies.append((Kinds.service, "collector", Workloads.collectorHeadless(stack)))
        var daemonSet = Workloads.daemonSet(stack, configHash: agentHash)
        if !inputs.htpasswdHash.isEmpty {
            daemonSet["spec"]?["template"]?["metadata"]?["annotations"]?[CollectorPod.htpasswdHashAnnotation] = .string(inputs.htpasswdHash)
        }
        bodies.append((Kinds.daemonSet, "collector", daemonSet))
        var configHash = sha256Hex(Array(agentYAML.utf8))

        if let gateway = CollectorConfig.gateway(stack) {
            let gatewayYAML = try YAMLText.document(gateway)
            let gatewayHash = sha256Hex(Array((gatewayYAML + "\n" + inputs.mountedMaterialHash).utf8))
            bodies.append((Kinds.configMap, "gateway", Workloads.configMap(name: Naming.gateway(name), config: gatewayYAML)))
            bodies.append((Kinds.service, "gateway", Workloads.gatewayHeadless(stack)))
            bodies.append((Kinds.deployment, "gateway", Workloads.deployment(stack, replicas: eff.gatewayReplicas, configHash: gatewayHash)))
            configHash = sha256Hex(Array((agentYAML + gatewayYAML).utf8))
        }

        if let policy = NetworkPolicyRender.render(stack, apiServer: inputs.apiServer) {
            bodies.append((Kinds.networkPolicy, "collector", policy))
        }

        // Monitoring: rules for the Prometheus Operator when it is there, else a ConfigMap
        // for a plain Prometheus; the Alertmanager config; Grafana's datasources and dashboard.
        if inputs.monitoringKinds.contains(PrometheusRules.resource.plural) {
            bodies.append((PrometheusRules.resource, "monitoring", PrometheusRules.prometheusRule(stack)))
            if inputs.monitoringKinds.contains(PrometheusRules.serviceMonitorResource.plural) {
                bodies.append((PrometheusRules.serviceMonitorResource, "monitoring", PrometheusRules.serviceMonitor(stack)))
            }
        } else {
            bodies.append((Kinds.configMap, "monitoring", try PrometheusConfig.configMap(stack)))
        }
        if let alertSecrets = inputs.alertSecrets {
            bodies.append((Kinds.secret, "alerting", try AlertmanagerConfig.secret(stack, secrets: alertSecrets)))
        }
        if eff.grafanaDatasources {
            bodies.append((Kinds.configMap, "grafana", try GrafanaRender.datasourcesConfigMap(stack)))
        }
        if eff.grafanaDashboards {
            bodies.append((Kinds.configMap, "grafana", try GrafanaRender.dashboardConfigMap(stack)))
        }

        var objects: [DesiredObject] = []
        for (resource, component, body) in bodies {
            let stamped = stampObject(body, for: stack, component: component)
            objects.append(
                try DesiredObject(resource: resource, namespace: stack.metadata.namespace, name: stamped["metadata"]?["name"]?.stringValue ?? "", body: stamped)
            )
        }
        return RenderedStack(objects: objects, configHash: configHash)
    }

    /// Secrets the operator creates for a stack, which offline rendering cannot make.
    public static func operatorSecrets(_ stack: ObservabilityStack) -> [(name: String, what: String)] {
        let eff = EffectiveSpec(stack.spec)
        let name = stack.metadata.name ?? ""
        var s: [(String, String)] = []
        if eff.tlsMode == "SelfSigned" {
            s.append((Naming.ca(name), "the stack's CA (never mounted into the collector)"))
            s.append((Naming.ingestTLS(name), "the ingest serving certificate: tls.crt, tls.key, ca.crt"))
        }
        if eff.basicAuth {
            s.append((Naming.name(name, "credentials"), "each client's password (the source of the htpasswd file)"))
            s.append((Naming.htpasswd(name), "the collector's htpasswd file (bcrypt)"))
            for c in eff.clients {
                s.append(("\(c.namespace)/\(Naming.otlpClient(name))", "OTLP client settings and credential for \(c.name)"))
            }
        }
        s.append((Naming.name(name, "alertmanager"), "alertmanager.yml, with the receivers' secrets read from the Secrets the spec names"))
        return s
    }
}

/// The result of rendering one stack.
public struct RenderedStack: Sendable, Hashable {
    public var objects: [DesiredObject]
    /// sha256 of the rendered collector config(s).
    public var configHash: String
}

/// Stamps labels, namespace and the controller owner reference on a JSON object, in one
/// place. Offline (`vigil render`) the stack has no uid, and no owner reference is set.
public func stampObject(_ body: JSONValue, for stack: ObservabilityStack, component: String) -> JSONValue {
    guard case .object(var o) = body else { return body }
    var meta = o["metadata"]?.objectValue ?? [:]
    meta["namespace"] = .string(stack.metadata.namespace ?? "default")
    var labels = meta["labels"]?.objectValue ?? [:]
    for (k, v) in Labels.forStack(stack, component: component) { labels[k] = .string(v) }
    meta["labels"] = .object(labels)
    if let uid = stack.metadata.uid {
        meta["ownerReferences"] = [
            [
                "apiVersion": .string(ObservabilityStack.resource.apiVersion), "kind": .string(ObservabilityStack.resource.kind),
                "name": .string(stack.metadata.name ?? ""), "uid": .string(uid), "controller": true, "blockOwnerDeletion": true,
            ]
        ]
    }
    o["metadata"] = .object(meta)
    return .object(o)
}
