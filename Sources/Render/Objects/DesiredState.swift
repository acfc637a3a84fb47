import KubeModel

/// Material the collector reads at start that is not in the spec (certificates,
/// htpasswd): only its hash enters the pod template, so that a change rolls the pods.
public struct RenderInputs: Sendable, Hashable {
    public var mountedMaterialHash: String
    /// sha256 of the htpasswd file, recorded on the agents' pod template so that the
    /// rollout of a given file can be told from the DaemonSet alone.
    public var htpasswdHash: String
    /// The nodes' addresses, the peers of the health port when the spec gives no
    /// `nodeCIDRs` (empty offline: the port is then open, and the status says so).
    public var nodeAddresses: [String]
    /// The Prometheus Operator's kinds the cluster serves (`prometheusrules`,
    /// `servicemonitors`): with PrometheusRule, rules go there; else into a ConfigMap.
    public var monitoringKinds: Set<String>
    /// The Alertmanager receivers' secrets, read from the user's Secrets; nil offline, where
    /// the Alertmanager Secret is the operator's to make.
    public var alertSecrets: AlertReceiverSecrets?
    /// The stack's certificates (SelfSigned mode), made by the operator; nil offline.
    public var certificates: CertificateMaterial?
    /// The stack's BasicAuth credentials and the client Secrets to write; nil offline.
    public var credentials: CredentialMaterial?
    public init(
        mountedMaterialHash: String = "", htpasswdHash: String = "", nodeAddresses: [String] = [], monitoringKinds: Set<String> = [],
        alertSecrets: AlertReceiverSecrets? = nil, certificates: CertificateMaterial? = nil, credentials: CredentialMaterial? = nil
    ) {
        self.certificates = certificates
        self.credentials = credentials
        self.mountedMaterialHash = mountedMaterialHash
        self.htpasswdHash = htpasswdHash
        self.nodeAddresses = nodeAddresses
        self.monitoringKinds = monitoringKinds
        self.alertSecrets = alertSecrets
    }
}

/// Everything one stack becomes, from its spec alone: a pure function.
public enum DesiredState {
    /// The desired objects of a validated stack. A disabled feature yields no objects, so
    /// that the reconciler prunes them.
    public static func render(_ ctx: StackContext, inputs: RenderInputs = RenderInputs()) throws -> RenderedStack {
        let name = ctx.name
        let eff = ctx.spec
        // Secrets first: the pods mount them.
        var bodies: [Draft] = []
        if let certificates = inputs.certificates { bodies += CertificateSecrets.drafts(ctx, certificates) }
        if let credentials = inputs.credentials {
            bodies.append(CredentialSecrets.record(ctx, credentials))
            bodies.append(CredentialSecrets.htpasswd(ctx, credentials))
        }

        let agentYAML = try YAMLText.document(CollectorConfig.agent(ctx))
        // A pod template's hash: its config's, then the mounted material's.
        func withMaterial(_ config: SHA256Text) -> String {
            var h = config
            h.add("\n")
            h.add(inputs.mountedMaterialHash)
            return h.hex
        }
        // The agents' config is hashed once: its pod template's hash goes on from that state,
        // and so does the status's configHash.
        var configHasher = SHA256Text()
        configHasher.add(agentYAML)
        let agentHash = withMaterial(configHasher)
        bodies.append(Draft(Kinds.serviceAccount, component: "serviceaccount", body: Workloads.serviceAccount(ctx)))
        // The agents' API rights (k8sattributes), before the pods that use them.
        bodies += CollectorRBAC.drafts(ctx)
        bodies.append(Draft(Kinds.configMap, component: "collector", body: Workloads.configMap(name: Naming.collector(name), config: agentYAML)))
        bodies.append(Draft(Kinds.service, component: "collector", body: Workloads.service(ctx)))
        bodies.append(Draft(Kinds.service, component: "collector", body: Workloads.collectorHeadless(ctx)))
        var daemonSet = Workloads.daemonSet(ctx, configHash: agentHash)
        if !inputs.htpasswdHash.isEmpty {
            daemonSet["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.htpasswdHash] = .string(inputs.htpasswdHash)
        }
        // Agents read the gateway's trust bundle once, at start: a CA rollover rolls them.
        if ctx.hasGateway, let bundle = inputs.certificates?.bundle {
            daemonSet["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.trustBundleHash] = .string(sha256Hex(bundle.utf8))
        }
        bodies.append(Draft(Kinds.daemonSet, component: "collector", body: daemonSet))

        if let gateway = CollectorConfig.gateway(ctx) {
            let gatewayYAML = try YAMLText.document(gateway)
            var gatewayHasher = SHA256Text()
            gatewayHasher.add(gatewayYAML)
            let gatewayHash = withMaterial(gatewayHasher)
            bodies.append(Draft(Kinds.configMap, component: "gateway", body: Workloads.configMap(name: Naming.gateway(name), config: gatewayYAML)))
            bodies.append(Draft(Kinds.service, component: "gateway", body: Workloads.gatewayHeadless(ctx)))
            bodies.append(Draft(Kinds.deployment, component: "gateway", body: Workloads.deployment(ctx, replicas: eff.gatewayReplicas, configHash: gatewayHash)))
            if GatewayDisruptionBudget.wanted(ctx), let pdb = GatewayDisruptionBudget.resource(kinds: inputs.monitoringKinds) {
                bodies.append(Draft(pdb, component: "gateway", body: GatewayDisruptionBudget.body(ctx, resource: pdb)))
            }
            configHasher.add(gatewayYAML)
        }

        for (i, policy) in NetworkPolicyRender.render(ctx, nodeAddresses: inputs.nodeAddresses).enumerated() {
            bodies.append(Draft(Kinds.networkPolicy, component: i == 0 ? "collector" : "gateway", body: policy))
        }

        // Monitoring: rules for the Prometheus Operator when it is there, else a ConfigMap
        // for a plain Prometheus; the Alertmanager config; Grafana's datasources and dashboard.
        if inputs.monitoringKinds.contains(PrometheusRules.resource.plural) {
            bodies.append(Draft(PrometheusRules.resource, component: "monitoring", body: PrometheusRules.prometheusRule(ctx)))
            if inputs.monitoringKinds.contains(PrometheusRules.serviceMonitorResource.plural) {
                bodies.append(Draft(PrometheusRules.serviceMonitorResource, component: "monitoring", body: PrometheusRules.serviceMonitor(ctx)))
            }
        } else {
            bodies.append(Draft(Kinds.configMap, component: "monitoring", body: try PrometheusConfig.configMap(ctx)))
        }
        // Alerting: an AlertmanagerConfig for a shared Alertmanager where asked for and
        // served, else the whole alertmanager.yaml in a Secret.
        if AlertmanagerConfigObject.wanted(ctx, monitoringKinds: inputs.monitoringKinds) {
            bodies.append(Draft(AlertmanagerConfigObject.resource, component: AlertmanagerConfig.component, body: AlertmanagerConfigObject.body(ctx)))
        } else if let alertSecrets = inputs.alertSecrets {
            bodies.append(Draft(Kinds.secret, component: AlertmanagerConfig.component, body: try AlertmanagerConfig.secret(ctx, secrets: alertSecrets)))
        }
        // Grafana: the Grafana Operator's objects where asked for and served, else the
        // sidecar's ConfigMaps.
        if GrafanaOperatorRender.wanted(ctx, kinds: inputs.monitoringKinds) {
            if eff.grafanaDatasources {
                for body in GrafanaOperatorRender.datasources(ctx) { bodies.append(Draft(GrafanaOperatorRender.datasourceResource, component: "grafana", body: body)) }
            }
            if eff.grafanaDashboards {
                bodies.append(Draft(GrafanaOperatorRender.dashboardResource, component: "grafana", body: try GrafanaOperatorRender.dashboard(ctx)))
            }
        } else {
            if eff.grafanaDatasources {
                bodies.append(Draft(Kinds.configMap, component: "grafana", body: try GrafanaRender.datasourcesConfigMap(ctx)))
            }
            if eff.grafanaDashboards {
                bodies.append(Draft(Kinds.configMap, component: "grafana", body: try GrafanaRender.dashboardConfigMap(ctx)))
            }
        }

        // Client Secrets last: in other namespaces, after everything the collector needs.
        for client in inputs.credentials?.clientSecrets ?? [] {
            bodies.append(ClientSecret.draft(ctx, client, certificates: inputs.certificates))
        }
        return RenderedStack(objects: try stamped(bodies, ctx), configHash: configHasher.hex)
    }

    /// The credentials Secret alone: Vigil records which clients hold the current
    /// generation after it published their Secrets.
    public static func credentialsRecord(_ ctx: StackContext, _ material: CredentialMaterial) throws -> DesiredObject {
        try stamped([CredentialSecrets.record(ctx, material)], ctx)[0]
    }

    /// The Secrets of the certificates and credentials alone, client Secrets last: what a
    /// refused stack still keeps up, so that nothing expires and no rotation stalls while
    /// its spec waits for a fix.
    public static func rotationSecrets(_ ctx: StackContext, certificates: CertificateMaterial?, credentials: CredentialMaterial?) throws -> [DesiredObject] {
        var bodies: [Draft] = []
        if let certificates { bodies += CertificateSecrets.drafts(ctx, certificates) }
        if let credentials {
            bodies.append(CredentialSecrets.record(ctx, credentials))
            bodies.append(CredentialSecrets.htpasswd(ctx, credentials))
            for client in credentials.clientSecrets { bodies.append(ClientSecret.draft(ctx, client, certificates: certificates)) }
        }
        return try stamped(bodies, ctx)
    }

    /// The certificate Secrets alone (benchmarks and tests of the certificate steps).
    public static func certificateSecrets(_ ctx: StackContext, _ material: CertificateMaterial) throws -> [DesiredObject] {
        try stamped(CertificateSecrets.drafts(ctx, material), ctx)
    }

    /// Every object leaves Render through here, and only here is it stamped.
    static func stamped(_ drafts: consuming [Draft], _ ctx: StackContext) throws -> [DesiredObject] {
        var drafts = drafts
        var out: [DesiredObject] = []
        out.reserveCapacity(drafts.count)
        let shared = Stamp.Shared(ctx)
        for i in drafts.indices {
            // Each body is moved out of the list, so that stamping changes it in place.
            let body = Swift.exchange(&drafts[i].body, with: .null)
            out.append(try Stamp.object(drafts[i], body: body, for: ctx, shared: shared))
        }
        return out
    }

    /// Secrets the operator creates for a stack, which offline rendering cannot make.
    public static func operatorSecrets(_ ctx: StackContext) -> [(name: String, what: String)] {
        let eff = ctx.spec
        let name = ctx.name
        var s: [(String, String)] = []
        if ctx.needsStackCA {
            s.append((Naming.ca(name), "the stack's CA (never mounted into the collector)"))
        }
        if eff.issuesCertificates {
            s.append((Naming.ingestTLS(name), "the ingest serving certificate: tls.crt, tls.key, ca.crt"))
        }
        if ctx.hasGateway {
            s.append((ctx.names.gatewayTLS, "the gateway's serving certificate and the CA bundle it checks agents against"))
            s.append((ctx.names.agentTLS, "the agents' client certificate for the gateway and the CA bundle"))
        }
        if eff.basicAuth {
            s.append((ctx.names.credentials, "each client's password (the source of the htpasswd file)"))
            s.append((Naming.htpasswd(name), "the collector's htpasswd file (bcrypt)"))
            for c in eff.clients {
                s.append(("\(c.namespace)/\(ctx.names.otlpClient)", "OTLP client settings and credential for \(c.name)"))
            }
        }
        s.append((ctx.names.alertmanager, "alertmanager.yaml, with the receivers' secrets read from the Secrets the spec names"))
        return s
    }
}

/// The result of rendering one stack.
public struct RenderedStack: Sendable, Hashable {
    public var objects: [DesiredObject]
    /// sha256 of the rendered collector config(s).
    public var configHash: String
}

