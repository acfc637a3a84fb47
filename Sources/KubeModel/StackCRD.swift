/// The CustomResourceDefinition of `ObservabilityStack`. `vigil crd` prints it, and
/// `crds/` holds the same text; a test fails when the Swift model and this schema drift.
public enum StackCRD {
    public static let name = "observabilitystacks.observability.vigil.dev"

    /// A Go-style duration with an extra `d` unit: `90d`, `24h`, `1h30m`.
    public static let durationPattern = #"^([0-9]+(\.[0-9]+)?(ms|s|m|h|d))+$"#
    /// A DNS-1123 label.
    public static let dnsLabelPattern = #"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"#

    static func secretKeyRef(_ what: String) -> Schema {
        .object(
            description: "A key of a Secret in the stack's namespace holding \(what).",
            properties: [
                "name": .string(description: "Name of the Secret.", pattern: dnsSubdomainPattern, maxLength: 253),
                "key": .string(description: "Key within the Secret.", maxLength: 253),
            ],
            required: ["name", "key"]
        )
    }

    static let dnsSubdomainPattern = #"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"#

    static func credentialsRef(_ what: String) -> Schema {
        .object(
            description: "A Secret in the stack's namespace holding the username and password for \(what).",
            properties: [
                "name": .string(description: "Name of the Secret.", pattern: dnsSubdomainPattern, maxLength: 253),
                "usernameKey": .string(description: "Key of the username (default `username`).", maxLength: 253),
                "passwordKey": .string(description: "Key of the password (default `password`).", maxLength: 253),
            ],
            required: ["name"]
        )
    }

    static let labelSelector: Schema = .object(
        description: "A label selector, as in a NetworkPolicy.",
        properties: [
            "matchLabels": .map(description: "Labels that must match exactly.", values: .string(description: "Label value.")),
            "matchExpressions": .array(
                description: "Set-based requirements.",
                items: .object(
                    description: "One requirement.",
                    properties: [
                        "key": .string(description: "Label key."),
                        "operator": .string(description: "How the key relates to the values.", enum: ["In", "NotIn", "Exists", "DoesNotExist"]),
                        "values": .array(description: "Values for In and NotIn.", items: .string(description: "A value.")),
                    ],
                    required: ["key", "operator"]
                )
            ),
        ]
    )

    static let peer: Schema = .object(
        description: "A traffic source or destination, with the fields of a NetworkPolicyPeer.",
        properties: [
            "namespaceSelector": labelSelector,
            "podSelector": labelSelector,
            "ipBlock": .object(
                description: "A CIDR range, with exceptions.",
                properties: [
                    "cidr": .string(description: "The CIDR, for example 10.0.0.0/8."),
                    "except": .array(description: "CIDRs inside `cidr` to exclude.", items: .string(description: "A CIDR.")),
                ],
                required: ["cidr"]
            ),
        ]
    )

    static func duration(_ what: String) -> Schema {
        .string(description: "\(what) Go duration syntax with a `d` (day) unit, for example `90d` or `24h`.", pattern: durationPattern, maxLength: 32)
    }

    /// The `spec` schema.
    public static let specSchema: Schema = .object(
        description: "Desired state of one environment's observability stack. Every field but `environment` is optional: the environment profile supplies the defaults, and explicit fields override them.",
        properties: [
            "environment": .string(description: "Environment profile that supplies the defaults.", enum: Environment.allCases.map(\.rawValue)),
            "collector": .object(
                description: "The OpenTelemetry Collector pipeline running in the cluster.",
                properties: [
                    "image": .string(description: "Pinned otelcol-contrib image. The rendered config uses this version's component names.", maxLength: 512),
                    "mode": .string(description: "How agents run. Only DaemonSet is supported.", enum: ["DaemonSet"]),
                    "gateway": .object(
                        description: "Optional gateway Deployment that does tail sampling behind a trace-ID load-balancing exporter.",
                        properties: [
                            "replicas": .integer(
                                description: "Gateway replicas, used where spec.exporters.tempo is set; 0 disables the gateway (agents then sample on each node, on partial traces). Default: 0 in development, 2 in staging and production.",
                                minimum: 0, maximum: 100),
                            "minAvailable": .integer(
                                description: "minAvailable of the gateway's PodDisruptionBudget, below replicas; 0: no budget. Default: replicas - 1.", minimum: 0, maximum: 99),
                        ]
                    ),
                    "batch": .object(
                        description: "The batch processor. The largest batch must fit the next hop's 4 MiB gRPC message limit (Tempo, the gateway), planning 4 KiB per item: at most 768 items.",
                        properties: [
                            "sendBatchSize": .integer(description: "A batch is sent once it holds this many spans, data points or log records (default 384).", minimum: 1, maximum: 768),
                            "sendBatchMaxSize": .integer(description: "The most items in one batch (default and maximum 768).", minimum: 1, maximum: 768),
                            "timeout": duration("How long a batch waits to fill before it is sent, 100ms to 60s (default 1s in development, 5s in staging and production)."),
                        ]
                    ),
                    "sendingQueue": .object(
                        description: "The exporters' sending queues (Loki, Tempo, remote write), which hold data while a backend is down.",
                        properties: [
                            "persistent": .boolean(
                                description: "Keep the queues on disk (file_storage on a per-node host directory for agents, an emptyDir for the gateway), so that a collector restart during a backend outage loses nothing. Default: false in development, true in staging and production."
                            ),
                            "size": .integer(
                                description: "Queue size in batches, per exporter. Default: what fits 256 MiB (development, in memory), 1 GiB (staging) or 4 GiB (production) of the largest batches.",
                                minimum: 1, maximum: 100_000),
                        ]
                    ),
                    "kubernetesAttributes": .object(
                        description: "The k8sattributes processor: namespace, pod, deployment and node on every span, metric and log of the stack's namespace and its clients' namespaces. Agents then mount a ServiceAccount token that may list and watch pods and replicasets in those namespaces only.",
                        properties: ["enabled": .boolean(description: "Add Kubernetes attributes (default true).")]
                    ),
                    "memoryLimiter": .object(
                        description: "memory_limiter processor settings.",
                        properties: [
                            "limitMiB": .integer(description: "Hard limit in MiB (default 1024, production 2048).", minimum: 64, maximum: 65536),
                            "spikeLimitMiB": .integer(description: "Spike allowance in MiB, below limitMiB (default a fifth of the limit).", minimum: 0, maximum: 65536),
                        ]
                    ),
                    "hostMetrics": .object(
                        description: "hostmetrics receiver (read-only hostPath mounts).",
                        properties: [
                            "enabled": .boolean(description: "Collect host metrics (default true)."),
                            "collectionInterval": duration("Scrape interval (default 30s)."),
                        ]
                    ),
                    "fileLogs": .object(
                        description: "filelog receiver for container logs (read-only hostPath mounts).",
                        properties: [
                            "enabled": .boolean(description: "Collect container logs (default true)."),
                            "include": .array(
                                description: "Glob patterns of pod log files. Default: /var/log/pods/<namespace>_*/*/*.log for the stack's namespace and each client namespace. Each must be under /var/log/pods/, contain no .., and name one of those namespaces as its pod directory's prefix (/var/log/pods/<namespace>_...).",
                                items: .string(description: "A glob under /var/log/pods/<namespace>_.")
                            ),
                        ]
                    ),
                    "resources": .object(
                        description: "Compute resources of the collector container.",
                        properties: [
                            "limits": .map(description: "Resource limits.", values: .string(description: "A quantity.")),
                            "requests": .map(description: "Resource requests.", values: .string(description: "A quantity.")),
                        ]
                    ),
                    "tolerations": .array(
                        description: "Tolerations of the collector pods.",
                        items: .object(
                            description: "A toleration.",
                            properties: [
                                "key": .string(description: "Taint key."),
                                "operator": .string(description: "Exists or Equal.", enum: ["Exists", "Equal"]),
                                "value": .string(description: "Taint value."),
                                "effect": .string(description: "Taint effect.", enum: ["NoSchedule", "PreferNoSchedule", "NoExecute"]),
                                "tolerationSeconds": .integer(description: "How long a NoExecute taint is tolerated.", minimum: 0),
                            ]
                        )
                    ),
                    "nodeSelector": .map(description: "Node labels the collector pods require.", values: .string(description: "Label value.")),
                ]
            ),
            "ingest": .object(
                description: "Security of OTLP ingestion on 4317 (gRPC) and 4318 (HTTP).",
                properties: [
                    "tls": .object(
                        description: "TLS for the OTLP receivers.",
                        properties: [
                            "mode": .string(description: "Disabled, SelfSigned (Vigil's own CA per stack) or Secret (a user Secret, for example from cert-manager).", enum: ["Disabled", "SelfSigned", "Secret"]),
                            "secretName": .string(description: "With mode Secret: a kubernetes.io/tls Secret in the stack's namespace.", pattern: dnsSubdomainPattern, maxLength: 253),
                            "clientAuth": .string(
                                description: "Client certificates (mTLS). Optional and Required both issue a certificate per declared client (SelfSigned mode) into its client Secret; Required makes the collector demand one from the stack's CA bundle. The collector cannot verify a certificate only when presented, so Optional does not ask for one: use it while clients move to certificates.",
                                enum: ["None", "Optional", "Required"]
                            ),
                            "duration": duration("Leaf certificate lifetime (default 90d)."),
                            "renewBefore": duration("Renewal margin before expiry (default a third of duration)."),
                            "keyAlgorithm": .string(description: "Key algorithm (default ECDSA P-256).", enum: ["ECDSA", "RSA"]),
                            "keySize": .integer(description: "RSA key size: 2048 or 3072.", minimum: 2048, maximum: 3072),
                            "dnsNames": .array(description: "Extra DNS names for the serving certificate.", items: .string(description: "A DNS name.", maxLength: 253)),
                            "ipAddresses": .array(description: "Extra IP addresses for the serving certificate.", items: .string(description: "An IP address.", maxLength: 45)),
                        ]
                    ),
                    "basicAuth": .object(
                        description: "BasicAuth (htpasswd) credentials for OTLP clients, rotated automatically.",
                        properties: [
                            "enabled": .boolean(description: "Require BasicAuth (default off in development, on elsewhere)."),
                            "clients": .array(
                                description: "Clients that each get a credential, delivered as Secret <stack namespace>.<stack>-otlp-client in their namespace, which must accept the stack (annotation observability.vigil.dev/accept-stacks) unless it is the stack's own.",
                                items: .object(
                                    description: "One client.",
                                    properties: [
                                        "name": .string(description: "Client name; becomes the username.", pattern: dnsLabelPattern, maxLength: 63),
                                        "namespace": .string(description: "Namespace that receives the client Secret.", pattern: dnsLabelPattern, maxLength: 63),
                                    ],
                                    required: ["name", "namespace"]
                                ),
                                maxItems: 1000
                            ),
                            "rotation": .object(
                                description: "Credential rotation.",
                                properties: [
                                    "interval": duration("Time between rotations (default 30d)."),
                                    "overlap": duration("How long the old credential stays valid after the new one is published, at least (default 24h)."),
                                    "maxOverlap": duration(
                                        "How long the old credential stays at most while pods that use a client Secret have not restarted since the new one was published (default 7d)."
                                    ),
                                ]
                            ),
                            "bcryptCost": .integer(
                                description: "bcrypt cost of the htpasswd hashes (default 4, bcrypt's lowest). The passwords are 192 random bits, which no cost makes harder to guess, while the collector pays the cost on every request it authenticates (about 1 ms at 4, 50 ms at 10).",
                                minimum: 4, maximum: 14),
                            "clientSecretLabels": .map(
                                description: "Extra labels on every client Secret (for example for a reloader); not under observability.vigil.dev/ or app.kubernetes.io/.",
                                values: .string(description: "Label value.")
                            ),
                            "clientSecretAnnotations": .map(
                                description: "Extra annotations on every client Secret (for example for a reloader); not under observability.vigil.dev/.",
                                values: .string(description: "Annotation value.")
                            ),
                        ]
                    ),
                ]
            ),
            "sampling": .object(
                description: "Tail sampling of traces.",
                properties: [
                    "percentage": .number(description: "Probabilistic sampling percentage (default 100 / 25 / 10 by environment).", minimum: 0, maximum: 100),
                    "errors": .boolean(description: "Always keep traces with errors (default true)."),
                    "latencyThresholdMs": .integer(description: "Always keep traces slower than this (default 2000).", minimum: 1, maximum: 3_600_000),
                    "decisionWait": duration("How long tail sampling waits for a trace's spans before it decides, 1s to 5m (default 10s)."),
                    "numTraces": .integer(
                        description: "Traces tail sampling holds in memory while they wait (default 10000 in development, 50000 in staging, 100000 in production).", minimum: 1000,
                        maximum: 10_000_000),
                ]
            ),
            "exporters": .object(
                description: "Backends the collector exports to.",
                properties: [
                    "loki": .object(
                        description: "Loki, through its OTLP endpoint.",
                        properties: [
                            "endpoint": .string(description: "Loki's OTLP HTTP endpoint, for example https://loki.monitoring.svc:3100/otlp.", pattern: #"^https?://"#, maxLength: 2048),
                            "credentialsSecret": credentialsRef("Loki"),
                            "caSecret": secretKeyRef("a CA bundle for Loki"),
                            "insecureSkipVerify": .boolean(description: "Skip TLS verification (development only)."),
                        ],
                        required: ["endpoint"]
                    ),
                    "tempo": .object(
                        description: "Tempo, over OTLP gRPC with a bearer token.",
                        properties: [
                            "endpoint": .string(description: "Tempo's OTLP gRPC endpoint, host:port or URL.", maxLength: 2048),
                            "bearerTokenSecret": secretKeyRef("the bearer token"),
                            "caSecret": secretKeyRef("a CA bundle for Tempo"),
                            "insecure": .boolean(description: "Plaintext (development only)."),
                        ],
                        required: ["endpoint"]
                    ),
                    "remoteWrite": .object(
                        description: "Prometheus remote write, for long-term metrics storage.",
                        properties: [
                            "url": .string(description: "Remote write URL.", pattern: #"^https?://"#, maxLength: 2048),
                            "credentialsSecret": credentialsRef("remote write"),
                            "caSecret": secretKeyRef("a CA bundle for remote write"),
                        ],
                        required: ["url"]
                    ),
                ]
            ),
            "networkPolicy": .object(
                description: "NetworkPolicy for the collector pods, ingress and egress.",
                properties: [
                    "enabled": .boolean(description: "Generate the policy (default off in development, on elsewhere)."),
                    "ingestFrom": .array(description: "Sources allowed to send OTLP (default: the client namespaces).", items: peer),
                    "metricsFrom": .array(description: "Sources allowed to scrape 8889 (Prometheus).", items: peer),
                    "egressTo": .array(description: "Extra CIDRs the collector may reach (external backends).", items: .string(description: "A CIDR.")),
                    "nodeCIDRs": .array(description: "Node CIDRs allowed to reach the health port (kubelet probes).", items: .string(description: "A CIDR.")),
                    "apiServerCIDRs": .array(
                        description: "Where the API server answers, for the agents' k8sattributes processor (ports 443 and 6443). Default: the nodes' addresses, where kubeadm, kind and k3s run it; managed clusters (EKS, GKE, AKS) set their API endpoint's range here.",
                        items: .string(description: "A CIDR.")),
                ]
            ),
            "alerting": .object(
                description: "Prometheus alert rules and Alertmanager routes.",
                properties: [
                    "thresholds": .object(
                        description: "Alert thresholds (environment defaults apply).",
                        properties: [
                            "latencyP95Ms": .integer(description: "p95 latency threshold in milliseconds.", minimum: 1),
                            "errorRatio": .number(description: "Error ratio threshold, 0 to 1.", minimum: 0, maximum: 1),
                            "cpuUtilization": .number(description: "CPU utilization threshold, 0 to 1.", minimum: 0, maximum: 1),
                            "memoryUtilization": .number(description: "Memory utilization threshold, 0 to 1.", minimum: 0, maximum: 1),
                            "forDuration": duration("How long a condition holds before it fires."),
                        ]
                    ),
                    "prometheusRule": .object(
                        description: "The PrometheusRule (with the Prometheus Operator).",
                        properties: [
                            "labels": .map(
                                description: "Extra labels, for a Prometheus' ruleSelector (added to the operator's --monitoring-labels); not under observability.vigil.dev/ or app.kubernetes.io/.",
                                values: .string(description: "Label value."))
                        ]
                    ),
                    "alertmanagerConfig": .object(
                        description: "Routes and receivers as a monitoring.coreos.com/v1alpha1 AlertmanagerConfig (for an Alertmanager the Prometheus Operator runs and other teams share), instead of the <stack>-alertmanager Secret's whole alertmanager.yaml. Used where the cluster serves AlertmanagerConfig; the receivers' Secrets are referenced, not copied.",
                        properties: [
                            "enabled": .boolean(description: "Write an AlertmanagerConfig where the cluster serves it (default false)."),
                            "labels": .map(
                                description: "Labels for an Alertmanager's alertmanagerConfigSelector (added to the operator's --monitoring-labels); not under observability.vigil.dev/ or app.kubernetes.io/.",
                                values: .string(description: "Label value.")),
                        ]
                    ),
                    "serviceMonitor": .object(
                        description: "The ServiceMonitor (with the Prometheus Operator).",
                        properties: [
                            "labels": .map(
                                description: "Extra labels, for a Prometheus' serviceMonitorSelector (added to the operator's --monitoring-labels); not under observability.vigil.dev/ or app.kubernetes.io/.",
                                values: .string(description: "Label value."))
                        ]
                    ),
                    "receivers": .object(
                        description: "Alertmanager receivers; secrets by reference.",
                        properties: [
                            "slack": .object(
                                description: "Slack.",
                                properties: [
                                    "webhookURLSecret": secretKeyRef("the Slack webhook URL"),
                                    "channel": .string(description: "Channel, for example #observability.", maxLength: 256),
                                ],
                                required: ["webhookURLSecret"]
                            ),
                            "pagerDuty": .object(
                                description: "PagerDuty.",
                                properties: ["routingKeySecret": secretKeyRef("the PagerDuty routing key")],
                                required: ["routingKeySecret"]
                            ),
                            "email": .object(
                                description: "Email.",
                                properties: [
                                    "to": .string(description: "Recipient address.", maxLength: 512),
                                    "from": .string(description: "Sender address.", maxLength: 512),
                                    "smarthost": .string(description: "SMTP host:port.", maxLength: 512),
                                    "username": .string(description: "SMTP username.", maxLength: 512),
                                    "passwordSecret": secretKeyRef("the SMTP password"),
                                ],
                                required: ["to", "from", "smarthost"]
                            ),
                        ]
                    ),
                    "alertmanagers": .array(
                        description: "Alertmanager addresses (host:port) for the rendered prometheus.yml (default alertmanager-operated.<the operator's --monitoring-namespace>.svc:9093).",
                        items: .string(description: "host:port.", maxLength: 512)
                    ),
                ]
            ),
            "grafana": .object(
                description: "Grafana provisioning through sidecar-labelled ConfigMaps.",
                properties: [
                    "datasources": .boolean(description: "Provision datasources (default true)."),
                    "dashboards": .boolean(description: "Provision the overview dashboard (default true)."),
                    "prometheusURL": .string(description: "Prometheus query URL (default http://prometheus-operated.<the operator's --monitoring-namespace>.svc:9090).", maxLength: 2048),
                    "lokiURL": .string(description: "Loki query URL (default: the Loki exporter's scheme, host and port).", maxLength: 2048),
                    "tempoURL": .string(description: "Tempo query URL (default: the Tempo exporter's host on port 3200).", maxLength: 2048),
                    "defaultDatasource": .boolean(description: "Make this stack's Prometheus datasource Grafana's default (default false: Grafana refuses two defaults)."),
                    "operator": .object(
                        description: "The Grafana Operator (grafana.integreatly.org/v1beta1): GrafanaDatasource and GrafanaDashboard objects instead of the sidecar's ConfigMaps, where the cluster serves them; the backends' credentials are referenced from their Secrets (valuesFrom), not copied.",
                        properties: [
                            "enabled": .boolean(description: "Write the Grafana Operator's objects where served (default false)."),
                            "instanceLabels": .map(description: "Labels of the Grafana instances to provision (their instanceSelector); required when enabled.", values: .string(description: "Label value.")),
                            "allowCrossNamespaceImport": .boolean(description: "Let a Grafana in another namespace import them (default false)."),
                        ]
                    ),
                ]
            ),
        ],
        required: ["environment"]
    )

    static let condition: Schema = .object(
        description: "A condition, as metav1.Condition.",
        properties: [
            "type": .string(description: "Condition type.", maxLength: 316),
            "status": .string(description: "True, False or Unknown.", enum: ["True", "False", "Unknown"]),
            "reason": .string(description: "Machine-readable reason in CamelCase.", maxLength: 1024),
            "message": .string(description: "Human-readable message.", maxLength: 32768),
            "lastTransitionTime": .string(description: "When the status last changed.", format: "date-time"),
            "observedGeneration": .integer(description: "Generation the condition was computed for.", minimum: 0),
        ],
        required: ["type", "status", "reason", "message", "lastTransitionTime"]
    )

    /// The `status` schema.
    public static let statusSchema: Schema = .object(
        description: "Observed state. Never holds a secret.",
        properties: [
            "observedGeneration": .integer(description: "Generation of the spec last reconciled.", minimum: 0),
            "conditions": .array(
                description: "Ready, ConfigValid, CertificateReady, CredentialsReady, CollectorAvailable (a map by type: other controllers may add their own).",
                items: condition, listMapKeys: ["type"]
            ),
            "collectors": .object(
                description: "Collector pods.",
                properties: [
                    "desired": .integer(description: "Pods desired.", minimum: 0),
                    "ready": .integer(description: "Pods ready.", minimum: 0),
                    "summary": .string(description: "ready/desired."),
                ]
            ),
            "certificate": .object(
                description: "The ingest serving certificate.",
                properties: [
                    "notAfter": .string(description: "Expiry.", format: "date-time"),
                    "renewalTime": .string(description: "When Vigil renews it.", format: "date-time"),
                    "serial": .string(description: "Hex serial number of the serving certificate."),
                    "caPhase": .string(description: "CA rollover phase: Stable, NewCAInBundle or LeafOnNewCA.", enum: ["Stable", "NewCAInBundle", "LeafOnNewCA"]),
                    "restartBy": .string(
                        description: "When the pods in staleConsumers must have restarted by: the end of the CA rollover phase at the latest, or the expiry of the client certificate they hold.",
                        format: "date-time"),
                    "staleConsumers": .array(
                        description: "Pods (namespace/name) using a client Secret that started before it carried the current trust bundle (during a CA rollover) or client certificate (mTLS).",
                        items: .string(description: "namespace/name"), maxItems: 1000
                    ),
                ]
            ),
            "credentials": .object(
                description: "BasicAuth credential rotation.",
                properties: [
                    "generation": .integer(description: "Credential generation, incremented per rotation.", minimum: 0),
                    "rotatedAt": .string(description: "Last rotation.", format: "date-time"),
                    "nextRotation": .string(description: "Next rotation.", format: "date-time"),
                    "phase": .string(
                        description: "Rotation phase: Stable; RollingOut (the new generation joined the htpasswd file and the collector rolls); Overlap (clients hold the new generation, the previous one is still accepted).",
                        enum: ["Stable", "RollingOut", "Overlap"]
                    ),
                    "phaseSince": .string(description: "When the phase began.", format: "date-time"),
                    "previousRemovedAfter": .string(description: "In Overlap: when the previous generation may leave the htpasswd file.", format: "date-time"),
                    "previousRemovedBy": .string(description: "In Overlap: when the previous generation leaves at the latest, pods restarted or not.", format: "date-time"),
                    "staleConsumers": .array(
                        description: "In Overlap: pods (namespace/name) using a client Secret that started before the current generation was published.",
                        items: .string(description: "namespace/name"), maxItems: 1000
                    ),
                ]
            ),
            "endpoints": .object(
                description: "OTLP endpoints for clients.",
                properties: [
                    "grpc": .string(description: "OTLP gRPC endpoint."),
                    "http": .string(description: "OTLP HTTP endpoint."),
                ]
            ),
            "configHash": .string(description: "sha256 of the rendered collector config."),
        ]
    )

    /// The whole CRD object.
    public static var definition: JSONValue {
        let r = ObservabilityStack.resource
        let columns: [JSONValue] = [
            ["name": "Environment", "type": "string", "jsonPath": ".spec.environment"],
            ["name": "Ready", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Ready")].status"#],
            ["name": "Reason", "type": "string", "jsonPath": #".status.conditions[?(@.type=="Ready")].reason"#],
            ["name": "Collectors", "type": "string", "jsonPath": ".status.collectors.summary"],
            ["name": "Next Rotation", "type": "string", "jsonPath": ".status.credentials.nextRotation", "priority": 1],
            // "date" columns print future times as <invalid>: show the timestamp itself.
            ["name": "Cert Expires", "type": "string", "jsonPath": ".status.certificate.notAfter"],
            ["name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"],
        ]
        let root: Schema = .object(
            description: "ObservabilityStack is one environment's secure OpenTelemetry observability stack, reconciled by Vigil.",
            properties: [
                "apiVersion": .string(description: "APIVersion of this object."),
                "kind": .string(description: "Kind of this object."),
                "metadata": .bareObject,
                "spec": specSchema,
                "status": statusSchema,
            ],
            required: ["spec"]
        )
        return [
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": [
                "name": .string(name),
                "labels": ["app.kubernetes.io/name": "vigil", "app.kubernetes.io/part-of": "vigil"],
            ],
            "spec": [
                "group": .string(r.group),
                "names": [
                    "kind": .string(r.kind),
                    "listKind": .string(r.kind + "List"),
                    "plural": .string(r.plural),
                    "singular": "observabilitystack",
                    "shortNames": ["obs"],
                    "categories": ["vigil", "observability"],
                ],
                "scope": "Namespaced",
                "versions": [
                    [
                        "name": .string(r.version),
                        "served": true,
                        "storage": true,
                        "subresources": ["status": [:]],
                        "additionalPrinterColumns": .array(columns),
                        "schema": ["openAPIV3Schema": root.json],
                    ]
                ],
            ],
        ]
    }
}
