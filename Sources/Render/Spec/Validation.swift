import KubeModel

/// One problem with a spec, naming the field.
public struct FieldError: Error, Sendable, Hashable, CustomStringConvertible {
    public var field: String
    public var message: String

    public init(_ field: String, _ message: String) {
        self.field = field
        self.message = message
    }

    public var description: String { "\(field): \(message)" }
}

/// A stack whose spec cannot be used, with every field error.
public struct InvalidSpec: Error, Sendable, Hashable, CustomStringConvertible {
    public var errors: [FieldError]
    /// The spec as far as it resolves (unknown values stand in as the profile's), for the
    /// parts of status that do not depend on the errors.
    public var resolved: ResolvedSpec
    public var description: String { errors.map(\.description).joined(separator: "; ") }
}

/// Checks a spec beyond what the CRD schema can say (Kubernetes 1.20 has no CEL rules), and
/// everything the schema says too, for stacks that never passed through an API server
/// (`vigil render`). Each check is one line with the reason it exists.
public enum StackValidator {
    /// A resource quantity: a decimal number and an optional binary (Ki..Ei), decimal
    /// (n, u, m, k, M..E) or exponent suffix.
    static func isQuantity(_ s: String) -> Bool {
        guard !s.isEmpty, s.count <= 64 else { return false }
        var rest = Substring(s)
        if rest.first == "+" || rest.first == "-" { rest = rest.dropFirst() }
        let number = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard !number.isEmpty, number.filter({ $0 == "." }).count <= 1, number.contains(where: \.isNumber) else { return false }
        let suffix = String(rest.dropFirst(number.count))
        if ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "n", "u", "m", "k", "M", "G", "T", "P", "E"].contains(suffix) { return true }
        // An exponent: e or E, an optional sign, digits.
        guard let first = suffix.first, first == "e" || first == "E" else { return false }
        var exp = suffix.dropFirst()
        if exp.first == "+" || exp.first == "-" { exp = exp.dropFirst() }
        return !exp.isEmpty && exp.allSatisfy { $0.isASCII && $0.isNumber }
    }

    /// The stack's spec resolved, or every field error at once: the one way from a stack as
    /// written to a `StackContext` the builders and sub-reconcilers take.
    public static func resolve(_ stack: ObservabilityStack, policy: OperatorPolicy = .standard) -> Result<StackContext, InvalidSpec> {
        let spec = ResolvedSpec(stack.spec, namespace: stack.metadata.namespace ?? "default", policy: policy)
        let errors = validate(stack, resolved: spec) + policy.problems(stack.spec)
        return errors.isEmpty ? .success(StackContext(stack, spec: spec)) : .failure(InvalidSpec(errors: errors, resolved: spec))
    }

    public static func validate(_ stack: ObservabilityStack, policy: OperatorPolicy = .standard) -> [FieldError] {
        validate(stack, resolved: ResolvedSpec(stack.spec, namespace: stack.metadata.namespace ?? "default", policy: policy)) + policy.problems(stack.spec)
    }

    static func validate(_ stack: ObservabilityStack, resolved eff: ResolvedSpec) -> [FieldError] {
        var errors: [FieldError] = []
        let spec = stack.spec
        let isDev = spec.environment == .development

        if let name = stack.metadata.name, !matches(name, dnsSubdomain: true) {
            errors.append(FieldError("metadata.name", "must be a DNS-1123 subdomain, got \"\(name)\""))
        }

        // The collector.
        if let image = spec.collector?.image, image.trimmingSpaces.isEmpty {
            errors.append(FieldError("spec.collector.image", "must not be empty"))
        }
        if let mode = spec.collector?.mode, mode != "DaemonSet" {
            errors.append(FieldError("spec.collector.mode", "must be DaemonSet, got \"\(mode)\""))
        }
        // Quantities the API server cannot parse would fail the DaemonSet (Kubernetes 1.20
        // answers 500 to such an apply): refuse them here, by name.
        for (kind, map) in [("limits", spec.collector?.resources?.limits), ("requests", spec.collector?.resources?.requests)] {
            for (name, value) in (map ?? [:]).sorted(by: { $0.key < $1.key }) where !Self.isQuantity(value) {
                errors.append(FieldError("spec.collector.resources.\(kind).\(name)", "is not a Kubernetes quantity (like 500m, 1, 256Mi or 1Gi): \"\(value.prefix(64))\""))
            }
        }
        if let image = spec.collector?.image, image.count > 1024 {
            errors.append(FieldError("spec.collector.image", "must be at most 1024 characters, got \(image.count)"))
        }
        if let r = spec.collector?.gateway?.replicas, r < 0 || r > 100 {
            errors.append(FieldError("spec.collector.gateway.replicas", "must be between 0 and 100, got \(r)"))
        }
        if let m = spec.collector?.gateway?.minAvailable, m < 0 || (m > 0 && m >= eff.gatewayReplicas) {
            errors.append(
                FieldError(
                    "spec.collector.gateway.minAvailable",
                    "must be at least 0 and less than the gateway's replicas (\(eff.gatewayReplicas)), or no node holding a gateway pod could ever be drained, got \(m)"
                )
            )
        }
        // Batches: what the next hop accepts bounds the largest (Batching).
        if eff.batchMaxSize < 1 || eff.batchMaxSize > Batching.sendBatchMaxSize {
            errors.append(
                FieldError(
                    "spec.collector.batch.sendBatchMaxSize",
                    "must be between 1 and \(Batching.sendBatchMaxSize): a larger batch of \(Batching.itemBytes)-byte items would exceed the \(Batching.backendLimitBytes / 1024 / 1024) MiB gRPC message limit of Tempo and the gateway, got \(eff.batchMaxSize)"
                )
            )
        }
        if eff.batchSize < 1 || eff.batchSize > eff.batchMaxSize {
            errors.append(FieldError("spec.collector.batch.sendBatchSize", "must be between 1 and sendBatchMaxSize (\(eff.batchMaxSize)), got \(eff.batchSize)"))
        }
        if let t = checkDuration(spec.collector?.batch?.timeout, "spec.collector.batch.timeout", into: &errors), t < 0.1 || t > 60 {
            errors.append(FieldError("spec.collector.batch.timeout", "must be between 100ms and 60s, got \(eff.batchTimeout)"))
        }
        if eff.queueSize < 1 || eff.queueSize > 100_000 {
            errors.append(FieldError("spec.collector.sendingQueue.size", "must be between 1 and 100000 batches, got \(eff.queueSize)"))
        }
        // memory_limiter refuses to start unless the spike allowance is below the limit.
        if eff.memoryLimitMiB < 64 || eff.memoryLimitMiB > 65536 {
            errors.append(FieldError("spec.collector.memoryLimiter.limitMiB", "must be between 64 and 65536, got \(eff.memoryLimitMiB)"))
        }
        if eff.memorySpikeLimitMiB < 0 || eff.memorySpikeLimitMiB >= eff.memoryLimitMiB {
            errors.append(
                FieldError(
                    "spec.collector.memoryLimiter.spikeLimitMiB",
                    "must be at least 0 and less than limitMiB (\(eff.memoryLimitMiB)), got \(eff.memorySpikeLimitMiB)"
                )
            )
        }
        checkDuration(spec.collector?.hostMetrics?.collectionInterval, "spec.collector.hostMetrics.collectionInterval", into: &errors)
        // No `$` expansion reaches a consumer that would perform it (the collector reads
        // `${env:…}`, `${file:…}`, `${http:…}`, `$VAR`; Grafana `$VAR`): one rule over every
        // string of the spec, whatever field carries it to which consumer.
        if let json = try? JSONCoding.decode(JSONValue.self, from: JSONCoding.encode(spec)) {
            for (path, value) in Expansion.strings(json, path: "spec") {
                guard let first = Expansion.expansions(in: value).first else { continue }
                errors.append(FieldError(path, "contains \"\(first)\", which the collector or Grafana would expand (reading its environment or files); Vigil passes no $ expansion through"))
            }
        }
        // Pod logs: only the stack's own namespace and its clients', never a path outside
        // the node's pod log directory.
        let logNamespaces = PodLogs.namespaces(namespace: stack.metadata.namespace ?? "default", clients: eff.clients)
        for (i, glob) in (spec.collector?.fileLogs?.include ?? []).enumerated() {
            if let problem = PodLogs.problem(with: glob, allowed: logNamespaces) {
                errors.append(FieldError("spec.collector.fileLogs.include[\(i)]", problem))
            }
        }

        // Ingest TLS.
        let tls = spec.ingest?.tls
        if let mode = tls?.mode, TLSMode(rawValue: mode) == nil {
            errors.append(FieldError("spec.ingest.tls.mode", "must be Disabled, SelfSigned or Secret, got \"\(mode)\""))
        }
        if eff.tlsMode == .secret, (tls?.secretName ?? "").isEmpty {
            errors.append(FieldError("spec.ingest.tls.secretName", "is required when mode is Secret"))
        }
        if eff.tlsMode != .secret, tls?.secretName != nil {
            errors.append(FieldError("spec.ingest.tls.secretName", "is only used when mode is Secret (mode is \(eff.tlsMode.rawValue))"))
        }
        if let ca = tls?.clientAuth, ClientAuth(rawValue: ca) == nil {
            errors.append(FieldError("spec.ingest.tls.clientAuth", "must be None, Optional or Required, got \"\(ca)\""))
        }
        // Client certificates need a TLS handshake to be presented in.
        if !eff.tlsEnabled, eff.clientAuth != .none, tls?.clientAuth != nil {
            errors.append(FieldError("spec.ingest.tls.clientAuth", "\(eff.clientAuth.rawValue) needs TLS; mode is Disabled"))
        }
        let duration = checkDuration(tls?.duration, "spec.ingest.tls.duration", into: &errors) ?? 90 * 86400
        if duration < 3600 || duration > 3650 * 86400 {
            errors.append(FieldError("spec.ingest.tls.duration", "must be between 1h and 3650d, got \(eff.tlsDuration)"))
        }
        if let renew = checkDuration(tls?.renewBefore, "spec.ingest.tls.renewBefore", into: &errors) {
            if renew < 300 || renew >= duration {
                errors.append(FieldError("spec.ingest.tls.renewBefore", "must be at least 5m and less than duration (\(eff.tlsDuration)), got \(tls?.renewBefore ?? "")"))
            }
        }
        if let alg = tls?.keyAlgorithm, KeyAlgorithmName(rawValue: alg) == nil {
            errors.append(FieldError("spec.ingest.tls.keyAlgorithm", "must be ECDSA or RSA, got \"\(alg)\""))
        }
        if let size = tls?.keySize {
            if tls?.keyAlgorithm.flatMap(KeyAlgorithmName.init(rawValue:)) != .rsa {
                errors.append(FieldError("spec.ingest.tls.keySize", "applies to RSA keys only (ECDSA uses P-256)"))
            } else if size != 2048 && size != 3072 {
                errors.append(FieldError("spec.ingest.tls.keySize", "must be 2048 or 3072, got \(size)"))
            }
        }
        for (i, ip) in (tls?.ipAddresses ?? []).enumerated() where !IPAddress.isValid(ip) {
            errors.append(FieldError("spec.ingest.tls.ipAddresses[\(i)]", "is not an IP address: \"\(ip)\""))
        }
        for (i, name) in (tls?.dnsNames ?? []).enumerated() where !matches(name.hasPrefix("*.") ? String(name.dropFirst(2)) : name, dnsSubdomain: true) {
            errors.append(FieldError("spec.ingest.tls.dnsNames[\(i)]", "is not a DNS name: \"\(name)\""))
        }

        // BasicAuth.
        let auth = spec.ingest?.basicAuth
        // Outside development a password must never cross the network in plaintext.
        if eff.basicAuth, !eff.tlsEnabled, !isDev {
            errors.append(FieldError("spec.ingest.basicAuth.enabled", "BasicAuth without TLS would send passwords in plaintext; set spec.ingest.tls.mode"))
        }
        checkClientSecretMetadata(auth, into: &errors)
        checkLabels(spec.alerting?.prometheusRule?.labels, "spec.alerting.prometheusRule.labels", into: &errors)
        checkLabels(spec.alerting?.serviceMonitor?.labels, "spec.alerting.serviceMonitor.labels", into: &errors)
        checkLabels(spec.alerting?.alertmanagerConfig?.labels, "spec.alerting.alertmanagerConfig.labels", into: &errors)
        if let op = spec.grafana?.operator {
            for (key, value) in (op.instanceLabels ?? [:]).sorted(by: { $0.key < $1.key }) {
                let field = "spec.grafana.operator.instanceLabels.\(key.prefix(100))"
                if !isQualifiedName(key) { errors.append(FieldError(field, "is not a valid label key")) }
                if !isLabelValue(value) { errors.append(FieldError(field, "has an invalid label value \"\(value.prefix(100))\"")) }
            }
            if op.enabled == true, (op.instanceLabels ?? [:]).isEmpty {
                errors.append(FieldError("spec.grafana.operator.instanceLabels", "is required with spec.grafana.operator.enabled: the Grafana Operator selects its instances by them"))
            }
        }
        var seen = Set<String>()
        var namespaces = Set<String>()
        for (i, client) in (auth?.clients ?? []).enumerated() {
            // Each namespace receives one Secret named <stack namespace>.<stack>-otlp-client.
            if !namespaces.insert(client.namespace).inserted {
                errors.append(FieldError("spec.ingest.basicAuth.clients[\(i)].namespace", "another client already uses namespace \"\(client.namespace)\" (one client per namespace: its Secret is \(Naming.otlpClient(stack.metadata.name ?? "", namespace: stack.metadata.namespace ?? "default")))"))
            }
            if !matches(client.name, dnsSubdomain: false) {
                errors.append(FieldError("spec.ingest.basicAuth.clients[\(i)].name", "must be a DNS-1123 label, got \"\(client.name)\""))
            }
            if !matches(client.namespace, dnsSubdomain: false) {
                errors.append(FieldError("spec.ingest.basicAuth.clients[\(i)].namespace", "must be a DNS-1123 label, got \"\(client.namespace)\""))
            }
            // The username is the client name: two entries with one name would share a credential.
            if !seen.insert(client.name).inserted {
                errors.append(FieldError("spec.ingest.basicAuth.clients[\(i)].name", "duplicates client \"\(client.name)\""))
            }
        }
        let interval = checkDuration(auth?.rotation?.interval, "spec.ingest.basicAuth.rotation.interval", into: &errors) ?? 30 * 86400
        if let maxOverlap = checkDuration(auth?.rotation?.maxOverlap, "spec.ingest.basicAuth.rotation.maxOverlap", into: &errors) {
            if maxOverlap < eff.rotationOverlapSeconds {
                errors.append(FieldError("spec.ingest.basicAuth.rotation.maxOverlap", "must be at least overlap (\(eff.rotationOverlap))"))
            }
            if maxOverlap >= interval {
                errors.append(FieldError("spec.ingest.basicAuth.rotation.maxOverlap", "must be less than interval (\(eff.rotationInterval))"))
            }
        }
        if let overlap = checkDuration(auth?.rotation?.overlap, "spec.ingest.basicAuth.rotation.overlap", into: &errors), overlap >= interval {
            errors.append(FieldError("spec.ingest.basicAuth.rotation.overlap", "must be less than interval (\(eff.rotationInterval))"))
        }
        if interval < 3600 {
            errors.append(FieldError("spec.ingest.basicAuth.rotation.interval", "must be at least 1h, got \(eff.rotationInterval)"))
        }
        if eff.bcryptCost < 4 || eff.bcryptCost > 14 {
            errors.append(FieldError("spec.ingest.basicAuth.bcryptCost", "must be between 4 and 14, got \(eff.bcryptCost)"))
        }

        // Sampling.
        if eff.samplingPercentage < 0 || eff.samplingPercentage > 100 || eff.samplingPercentage.isNaN {
            errors.append(FieldError("spec.sampling.percentage", "must be between 0 and 100, got \(eff.samplingPercentage)"))
        }
        if eff.latencyThresholdMs < 1 {
            errors.append(FieldError("spec.sampling.latencyThresholdMs", "must be at least 1, got \(eff.latencyThresholdMs)"))
        }
        if let w = checkDuration(spec.sampling?.decisionWait, "spec.sampling.decisionWait", into: &errors), w < 1 || w > 300 {
            errors.append(FieldError("spec.sampling.decisionWait", "must be between 1s and 5m, got \(eff.decisionWait)"))
        }
        if eff.numTraces < 1000 || eff.numTraces > 10_000_000 {
            errors.append(FieldError("spec.sampling.numTraces", "must be between 1000 and 10000000, got \(eff.numTraces)"))
        }

        // Exporters: development alone may skip TLS verification, as the specification says.
        if let loki = spec.exporters?.loki {
            checkURL(loki.endpoint, "spec.exporters.loki.endpoint", into: &errors)
            if loki.insecureSkipVerify == true, !isDev {
                errors.append(FieldError("spec.exporters.loki.insecureSkipVerify", "is allowed in development only"))
            }
        }
        if let tempo = spec.exporters?.tempo {
            if tempo.endpoint.trimmingSpaces.isEmpty {
                errors.append(FieldError("spec.exporters.tempo.endpoint", "must not be empty"))
            }
            if tempo.insecure == true, !isDev {
                errors.append(FieldError("spec.exporters.tempo.insecure", "is allowed in development only"))
            }
        }
        if let rw = spec.exporters?.remoteWrite {
            checkURL(rw.url, "spec.exporters.remoteWrite.url", into: &errors)
        }

        // Network policy CIDRs.
        let np = spec.networkPolicy
        for (i, cidr) in (np?.egressTo ?? []).enumerated() where !IPAddress.isValidCIDR(cidr) {
            errors.append(FieldError("spec.networkPolicy.egressTo[\(i)]", "is not a CIDR: \"\(cidr)\""))
        }
        for (i, cidr) in (np?.apiServerCIDRs ?? []).enumerated() where !IPAddress.isValidCIDR(cidr) {
            errors.append(FieldError("spec.networkPolicy.apiServerCIDRs[\(i)]", "is not a CIDR: \"\(cidr)\""))
        }
        for (i, cidr) in (np?.nodeCIDRs ?? []).enumerated() where !IPAddress.isValidCIDR(cidr) {
            errors.append(FieldError("spec.networkPolicy.nodeCIDRs[\(i)]", "is not a CIDR: \"\(cidr)\""))
        }
        for (list, field) in [(np?.ingestFrom, "ingestFrom"), (np?.metricsFrom, "metricsFrom")] {
            for (i, peer) in (list ?? []).enumerated() {
                if peer.ipBlock == nil, peer.namespaceSelector == nil, peer.podSelector == nil {
                    errors.append(FieldError("spec.networkPolicy.\(field)[\(i)]", "must set namespaceSelector, podSelector or ipBlock"))
                }
                if let block = peer.ipBlock {
                    if !IPAddress.isValidCIDR(block.cidr) {
                        errors.append(FieldError("spec.networkPolicy.\(field)[\(i)].ipBlock.cidr", "is not a CIDR: \"\(block.cidr)\""))
                    }
                    if peer.namespaceSelector != nil || peer.podSelector != nil {
                        errors.append(FieldError("spec.networkPolicy.\(field)[\(i)].ipBlock", "cannot be combined with selectors in one peer"))
                    }
                }
            }
        }

        // Alerting.
        let t = spec.alerting?.thresholds
        for (value, field) in [(t?.errorRatio, "errorRatio"), (t?.cpuUtilization, "cpuUtilization"), (t?.memoryUtilization, "memoryUtilization")] {
            if let value, value < 0 || value > 1 || value.isNaN {
                errors.append(FieldError("spec.alerting.thresholds.\(field)", "must be between 0 and 1, got \(value)"))
            }
        }
        if let ms = t?.latencyP95Ms, ms < 1 {
            errors.append(FieldError("spec.alerting.thresholds.latencyP95Ms", "must be at least 1, got \(ms)"))
        }
        checkDuration(t?.forDuration, "spec.alerting.thresholds.forDuration", into: &errors)
        for (i, target) in (spec.alerting?.alertmanagers ?? []).enumerated() where !isHostPort(target) {
            errors.append(FieldError("spec.alerting.alertmanagers[\(i)]", "must be host:port, got \"\(target)\""))
        }
        if let email = spec.alerting?.receivers?.email {
            if !isHostPort(email.smarthost) {
                errors.append(FieldError("spec.alerting.receivers.email.smarthost", "must be host:port, got \"\(email.smarthost)\""))
            }
            for (value, field) in [(email.to, "to"), (email.from, "from")] where !value.contains("@") {
                errors.append(FieldError("spec.alerting.receivers.email.\(field)", "must be an email address, got \"\(value)\""))
            }
            if email.passwordSecret != nil, email.username == nil {
                errors.append(FieldError("spec.alerting.receivers.email.username", "is required with passwordSecret (SMTP AUTH needs both)"))
            }
        }
        let g = spec.grafana
        for (value, field) in [(g?.prometheusURL, "prometheusURL"), (g?.lokiURL, "lokiURL"), (g?.tempoURL, "tempoURL")] {
            if let value { checkURL(value, "spec.grafana.\(field)", into: &errors) }
        }
        return errors
    }

    @discardableResult
    static func checkDuration(_ value: String?, _ field: String, into errors: inout [FieldError]) -> Double? {
        guard let value else { return nil }
        do {
            return try DurationParser.seconds(value)
        } catch {
            errors.append(FieldError(field, error.description))
            return nil
        }
    }

    /// `host:port`, with a port from 1 to 65535 (Alertmanager and SMTP addresses).
    static func isHostPort(_ value: String) -> Bool {
        guard let colon = value.lastIndex(of: ":"), let port = Int(value[value.index(after: colon)...]) else { return false }
        let host = value[..<colon]
        return (1...65535).contains(port) && !host.isEmpty && !host.contains(where: { $0 == " " || $0 == "/" })
    }

    static func checkURL(_ value: String, _ field: String, into errors: inout [FieldError]) {
        let lower = value.lowercased()
        guard lower.hasPrefix("http://") || lower.hasPrefix("https://") else {
            errors.append(FieldError(field, "must be an http:// or https:// URL, got \"\(value)\""))
            return
        }
        let rest = lower.drop { $0 != "/" }.dropFirst(2)
        let host = rest.prefix { $0 != "/" && $0 != ":" && $0 != "?" }
        if host.isEmpty || value.contains(" ") {
            errors.append(FieldError(field, "has no host: \"\(value)\""))
        }
    }

    /// A label or annotation key: an optional DNS-subdomain prefix and `/`, then a name of
    /// at most 63 alphanumerics, `-`, `_` and `.`, starting and ending alphanumeric.
    static func isQualifiedName(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let name = parts.last else { return false }
        if parts.count == 2, !matches(String(parts[0]), dnsSubdomain: true) { return false }
        return isLabelValue(String(name)) && !name.isEmpty
    }

    /// A label value: empty, or at most 63 alphanumerics, `-`, `_` and `.`, starting and
    /// ending alphanumeric.
    static func isLabelValue(_ s: String) -> Bool {
        guard !s.isEmpty else { return true }
        guard s.count <= 63, let first = s.first, let last = s.last, first.isASCII && (first.isLetter || first.isNumber), last.isASCII && (last.isLetter || last.isNumber)
        else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    /// Extra labels on an object: valid keys and values, and none of Vigil's own.
    static func checkLabels(_ labels: [String: String]?, _ path: String, into errors: inout [FieldError]) {
        for (key, value) in (labels ?? [:]).sorted(by: { $0.key < $1.key }) {
            let field = "\(path).\(key.prefix(100))"
            if !isQualifiedName(key) { errors.append(FieldError(field, "is not a valid label key")) }
            if !isLabelValue(value) { errors.append(FieldError(field, "has an invalid label value \"\(value.prefix(100))\"")) }
            if key.hasPrefix("observability.vigil.dev/") || key.hasPrefix("app.kubernetes.io/") {
                errors.append(FieldError(field, "is Vigil's own label: an object's ownership is told by it"))
            }
        }
    }

    /// Extra metadata for client Secrets: valid keys and values, and none of Vigil's own.
    static func checkClientSecretMetadata(_ auth: BasicAuthSpec?, into errors: inout [FieldError]) {
        for (key, value) in (auth?.clientSecretLabels ?? [:]).sorted(by: { $0.key < $1.key }) {
            let field = "spec.ingest.basicAuth.clientSecretLabels.\(key.prefix(100))"
            if !isQualifiedName(key) { errors.append(FieldError(field, "is not a valid label key")) }
            if !isLabelValue(value) { errors.append(FieldError(field, "has an invalid label value \"\(value.prefix(100))\"")) }
            if key.hasPrefix("observability.vigil.dev/") || key.hasPrefix("app.kubernetes.io/") {
                errors.append(FieldError(field, "is Vigil's own label: a client Secret's ownership is told by it"))
            }
        }
        var size = 0
        for (key, value) in (auth?.clientSecretAnnotations ?? [:]).sorted(by: { $0.key < $1.key }) {
            let field = "spec.ingest.basicAuth.clientSecretAnnotations.\(key.prefix(100))"
            if !isQualifiedName(key) { errors.append(FieldError(field, "is not a valid annotation key")) }
            if key.hasPrefix("observability.vigil.dev/") { errors.append(FieldError(field, "is Vigil's own annotation")) }
            size += key.utf8.count + value.utf8.count
        }
        if size > 64 * 1024 { errors.append(FieldError("spec.ingest.basicAuth.clientSecretAnnotations", "holds \(size) bytes; at most 64 KiB")) }
    }

    /// DNS-1123 label (or subdomain): lowercase alphanumerics and `-` (and `.`), starting
    /// and ending alphanumeric.
    static func matches(_ s: String, dnsSubdomain: Bool) -> Bool {
        guard !s.isEmpty, s.count <= (dnsSubdomain ? 253 : 63) else { return false }
        let parts = dnsSubdomain ? s.split(separator: ".", omittingEmptySubsequences: false) : [Substring(s)]
        return parts.allSatisfy { part in
            guard let first = part.first, let last = part.last, part.count <= 63 else { return false }
            let ok = part.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }
            return ok && first != "-" && last != "-"
        }
    }
}

/// IP literal and CIDR checks without Foundation.
public enum IPAddress {
    public static func isValid(_ s: String) -> Bool { isIPv4(s) || isIPv6(s) }

    /// Four decimal parts of one to three ASCII digits, each at most 255, with no leading
    /// zero. Read as bytes, as the consumers (Kubernetes, the collector) read an address:
    /// a digit followed by a combining mark is one `Character` that compares between "0"
    /// and "9" but is no number, and made the Character-based check trap on `Int(p)!`.
    public static func isIPv4(_ s: String) -> Bool {
        s.withUTF8Bytes { isIPv4($0) }
    }

    static func isIPv4(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var parts = 0
        var digits = 0
        var value = 0
        var leadingZero = false
        for i in 0...b.count {
            let c = i < b.count ? b[i] : UInt8(ascii: ".")
            if c == UInt8(ascii: ".") {
                guard digits > 0, value <= 255, !(digits > 1 && leadingZero) else { return false }
                parts += 1
                digits = 0
                value = 0
            } else if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                if digits == 0 { leadingZero = c == UInt8(ascii: "0") }
                digits += 1
                guard digits <= 3 else { return false }
                value = value * 10 + Int(c - UInt8(ascii: "0"))
            } else {
                return false
            }
        }
        return parts == 4
    }

    /// Hexadecimal groups of at most four ASCII digits between colons, at most one `::`,
    /// eight groups without it and fewer with it; a group with a dot is an embedded IPv4
    /// address. Read as bytes.
    public static func isIPv6(_ s: String) -> Bool {
        s.withUTF8Bytes { isIPv6($0) }
    }

    static func isIPv6(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var colon = false
        for c in b {
            switch c {
            case UInt8(ascii: ":"): colon = true
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "f"), UInt8(ascii: "A")...UInt8(ascii: "F"), UInt8(ascii: "."): break
            default: return false
            }
        }
        guard colon else { return false }
        // Occurrences of "::", counted left to right without overlap.
        var doubleColons = 0
        var i = 0
        while i + 1 < b.count {
            if b[i] == UInt8(ascii: ":") && b[i + 1] == UInt8(ascii: ":") {
                doubleColons += 1
                i += 2
            } else {
                i += 1
            }
        }
        guard doubleColons <= 1 else { return false }
        // The non-empty groups between colons.
        var groups = 0
        var start = 0
        for j in 0...b.count where j == b.count || b[j] == UInt8(ascii: ":") {
            let group = UnsafeBufferPointer(rebasing: b[start..<j])
            start = j + 1
            if group.isEmpty { continue }
            groups += 1
            guard group.count <= 4 || (group.contains(UInt8(ascii: ".")) && isIPv4(group)) else { return false }
        }
        return doubleColons == 1 ? groups < 8 : groups == 8
    }

    /// An address, one `/`, and a prefix length of ASCII digits within the address's bits.
    public static func isValidCIDR(_ s: String) -> Bool {
        s.withUTF8Bytes { b in
            guard let slash = b.firstIndex(of: UInt8(ascii: "/")), !b[(slash + 1)...].contains(UInt8(ascii: "/")) else { return false }
            let digits = b[(slash + 1)...]
            guard !digits.isEmpty, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
                let bits = Int(String(decoding: digits, as: UTF8.self))
            else { return false }
            let ip = UnsafeBufferPointer(rebasing: b[..<slash])
            if isIPv4(ip) { return bits <= 32 }
            if isIPv6(ip) { return bits <= 128 }
            return false
        }
    }
}

extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }

    func components(separatedBy sep: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let r = rest.firstRange(of: sep) {
            result.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}
