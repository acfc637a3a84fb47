import Foundation
import KubeModel
import Render
import Testing

/// Evaluates NetworkPolicies the way the API defines them (selectors, ports, ipBlock with
/// exceptions; a pod selected by any policy is isolated in that direction, and traffic is
/// allowed when any policy selecting it allows it), so that the tests below check what the
/// policies allow, not their text.
struct PolicyEvaluator {
    struct Pod {
        var namespace: String
        var labels: [String: String] = [:]
        var ip: String = "192.0.2.1"
        var namespaceLabels: [String: String] { [NetworkPolicyRender.namespaceNameLabel: namespace] }
    }

    let policies: [JSONValue]

    init(policies: [JSONValue]) { self.policies = policies }
    init(policy: JSONValue) { policies = [policy] }
    /// A stack's policies, with the nodes' addresses Vigil knows.
    init(_ ctx: StackContext, nodes: [String] = []) { policies = NetworkPolicyRender.render(ctx, nodeAddresses: nodes) }

    static func matches(_ selector: JSONValue?, _ labels: [String: String]) -> Bool {
        guard let selector else { return true }
        for (k, v) in selector["matchLabels"]?.objectValue ?? [:] where labels[k] != v.stringValue { return false }
        for e in selector["matchExpressions"]?.arrayValue ?? [] {
            let key = e["key"]?.stringValue ?? ""
            let values = (e["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            switch e["operator"]?.stringValue {
            case "In": if !values.contains(labels[key] ?? "\u{0}") { return false }
            case "NotIn": if let v = labels[key], values.contains(v) { return false }
            case "Exists": if labels[key] == nil { return false }
            case "DoesNotExist": if labels[key] != nil { return false }
            default: return false
            }
        }
        return true
    }

    static func ipv4(_ s: String) -> UInt32? {
        let parts = s.split(separator: ".").compactMap { UInt32($0) }
        guard parts.count == 4, parts.allSatisfy({ $0 < 256 }) else { return nil }
        return parts.reduce(0) { $0 << 8 | $1 }
    }

    static func inCIDR(_ ip: String, _ cidr: String) -> Bool {
        let parts = cidr.split(separator: "/")
        guard parts.count == 2, let base = ipv4(String(parts[0])), let bits = UInt32(parts[1]), let addr = ipv4(ip) else { return false }
        let mask: UInt32 = bits == 0 ? 0 : ~UInt32(0) << (32 - bits)
        return addr & mask == base & mask
    }

    /// Whether `peer` (a NetworkPolicyPeer) covers `pod`, for a policy in `policyNamespace`.
    static func peerMatches(_ peer: JSONValue, _ pod: Pod, policyNamespace: String) -> Bool {
        if let block = peer["ipBlock"] {
            guard inCIDR(pod.ip, block["cidr"]?.stringValue ?? "") else { return false }
            return !(block["except"]?.arrayValue ?? []).contains { inCIDR(pod.ip, $0.stringValue ?? "") }
        }
        let ns = peer["namespaceSelector"]
        let podSel = peer["podSelector"]
        if ns == nil, pod.namespace != policyNamespace { return false }
        if let ns, !matches(ns, pod.namespaceLabels) { return false }
        return matches(podSel, pod.labels)
    }

    static func selects(_ policy: JSONValue, _ pod: Pod) -> Bool {
        policy["metadata"]?["namespace"]?.stringValue == pod.namespace && matches(policy["spec"]?["podSelector"], pod.labels)
    }

    static func allowed(_ policy: JSONValue, _ rules: [JSONValue], peerKey: String, peer: Pod, port: Int, proto: String) -> Bool {
        let ns = policy["metadata"]?["namespace"]?.stringValue ?? ""
        return rules.contains { rule in
            let ports = rule["ports"]?.arrayValue ?? []
            let portOK = ports.isEmpty || ports.contains { p in
                (p["protocol"]?.stringValue ?? "TCP") == proto && (p["port"] == nil || p["port"] == .int(port))
            }
            guard portOK else { return false }
            guard let peers = rule[peerKey]?.arrayValue, !peers.isEmpty else { return true }
            return peers.contains { Self.peerMatches($0, peer, policyNamespace: ns) }
        }
    }

    /// Traffic from `source` to `target` on a port: allowed unless the policy selects the
    /// target for ingress and no ingress rule admits it.
    func ingress(to target: Pod, from source: Pod, port: Int, proto: String = "TCP") -> Bool {
        let selecting = policies.filter { Self.selects($0, target) }
        guard !selecting.isEmpty else { return true }
        return selecting.contains { Self.allowed($0, $0["spec"]?["ingress"]?.arrayValue ?? [], peerKey: "from", peer: source, port: port, proto: proto) }
    }

    func egress(from source: Pod, to dest: Pod, port: Int, proto: String = "TCP") -> Bool {
        let selecting = policies.filter { Self.selects($0, source) }
        guard !selecting.isEmpty else { return true }
        return selecting.contains { Self.allowed($0, $0["spec"]?["egress"]?.arrayValue ?? [], peerKey: "to", peer: dest, port: port, proto: proto) }
    }

    /// The ingress rules that admit every peer (no `from`).
    var openIngressRules: [JSONValue] {
        policies.flatMap { ($0["spec"]?["ingress"]?.arrayValue ?? []).filter { $0["from"] == nil } }
    }
}

@Suite struct NetworkPolicyTests {
    func stack(_ env: Environment = .staging, _ edit: (inout StackSpec) -> Void = { _ in }) -> ObservabilityStack {
        var spec = StackSpec(environment: env)
        // Agents alone, without k8sattributes (their own tests turn each on).
        spec.collector = CollectorSpec(gateway: GatewaySpec(replicas: 0), kubernetesAttributes: KubernetesAttributesSpec(enabled: false))
        edit(&spec)
        return ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
    }

    /// With k8sattributes the agents reach the API server's ports: at the nodes' addresses
    /// (where kubeadm, kind and k3s run it), or at apiServerCIDRs; nowhere else.
    @Test func kubernetesAttributesOpenTheAPIServerAndNothingElse() {
        let on = stack { $0.collector = CollectorSpec(gateway: GatewaySpec(replicas: 0)) }
        let p = PolicyEvaluator(StackContext(on), nodes: Self.nodes)
        for port in NetworkPolicyRender.apiServerPorts {
            #expect(p.egress(from: agent, to: .init(namespace: "default", ip: "172.18.0.2"), port: port))
            #expect(!p.egress(from: agent, to: .init(namespace: "default", ip: "203.0.113.9"), port: port))
        }
        #expect(!p.egress(from: agent, to: .init(namespace: "default", ip: "172.18.0.2"), port: 10250))
        let managed = stack {
            $0.collector = CollectorSpec(gateway: GatewaySpec(replicas: 0))
            $0.networkPolicy = NetworkPolicySpec(apiServerCIDRs: ["192.0.2.0/28"])
        }
        let m = PolicyEvaluator(StackContext(managed), nodes: Self.nodes)
        #expect(m.egress(from: agent, to: .init(namespace: "default", ip: "192.0.2.5"), port: 443))
        #expect(!m.egress(from: agent, to: .init(namespace: "default", ip: "172.18.0.2"), port: 443))
    }

    @Test(arguments: [
        ("a Service name with namespace and svc gives that namespace", "loki.logging.svc", "ns:logging"),
        ("a fully qualified Service name gives its namespace", "loki.logging.svc.cluster.local", "ns:logging"),
        ("a Service name with its namespace gives that namespace", "loki.logging", "ns:logging"),
        ("a bare Service name is in the stack's namespace", "loki", "ns:team"),
        ("an IPv4 literal gives an ipBlock", "10.1.2.3", "ip:10.1.2.3"),
        ("an IPv6 literal gives an ipBlock", "fd00::1", "ip:fd00::1"),
        ("a public host name cannot be named", "loki.example.com", "external:loki.example.com"),
    ])
    func destinations(_ sentence: String, _ host: String, _ expected: String) {
        let d = NetworkPolicyRender.destination(host: host, stackNamespace: "team")
        let got: String
        switch d {
        case .namespace(let n): got = "ns:\(n)"
        case .ip(let i): got = "ip:\(i)"
        case .external(let h): got = "external:\(h)"
        }
        #expect(got == expected, Comment(rawValue: sentence))
    }

    @Test(arguments: [
        ("https without a port is 443", "https://loki.example.com/otlp", "loki.example.com", 443),
        ("http without a port is 80", "http://loki.logging.svc/otlp", "loki.logging.svc", 80),
        ("an explicit port wins", "http://loki.logging.svc:3100/otlp", "loki.logging.svc", 3100),
        ("a gRPC endpoint is host and port", "tempo.tracing.svc:4317", "tempo.tracing.svc", 4317),
        ("an IPv6 endpoint in brackets", "[fd00::1]:4317", "fd00::1", 4317),
        ("the scheme ends at the first ://", "HTTPS://user:pw@Loki.example.com/a://b", "loki.example.com", 443),
        ("a colon and one slash is no scheme", "loki:3100/x:/y", "loki", 3100),
        ("a :/ before the real separator", "http:/x://loki:3100", "loki", 3100),
        ("non-ASCII before the separator", "héllo://loki.svc:9", "loki.svc", 9),
    ])
    func endpoints(_ sentence: String, _ endpoint: String, _ host: String, _ port: Int) {
        let hp = NetworkPolicyRender.hostAndPort(endpoint)
        #expect(hp?.host == host && hp?.port == port, Comment(rawValue: sentence))
    }

    @Test func developmentHasNoPolicyStagingAndProductionDoAndTheSpecOverrides() {
        #expect(NetworkPolicyRender.render(StackContext(stack(.development))).isEmpty)
        #expect(NetworkPolicyRender.render(StackContext(stack(.staging))).count == 1)
        #expect(NetworkPolicyRender.render(StackContext(stack(.production))).count == 1)
        #expect(NetworkPolicyRender.render(StackContext(stack(.development) { $0.networkPolicy = NetworkPolicySpec(enabled: true) })).count == 1)
        #expect(NetworkPolicyRender.render(StackContext(stack(.production) { $0.networkPolicy = NetworkPolicySpec(enabled: false) })).isEmpty)
    }

    /// A staging stack with one client in `apps`, Loki in-cluster, Tempo outside.
    var evaluated: PolicyEvaluator {
        let s = stack { spec in
            spec.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "apps")]))
            spec.exporters = ExportersSpec(
                loki: LokiExporterSpec(endpoint: "http://loki.logging.svc:3100/otlp"), tempo: TempoExporterSpec(endpoint: "tempo.example.com:4317")
            )
            spec.networkPolicy = NetworkPolicySpec(metricsFrom: [PeerSpec(namespaceSelector: LabelSelector(matchLabels: [NetworkPolicyRender.namespaceNameLabel: "monitoring"]), podSelector: LabelSelector(matchLabels: ["app": "prometheus"]))])
        }
        return PolicyEvaluator(StackContext(s), nodes: Self.nodes)
    }

    let agent = PolicyEvaluator.Pod(namespace: "team", labels: [Labels.stack: "obs", Labels.component: "agent"], ip: "10.244.1.5")

    @Test func ingestFromTheClientNamespaceIsAllowedAndFromAnUnrelatedOneDenied() {
        let p = evaluated
        #expect(p.ingress(to: agent, from: .init(namespace: "apps"), port: 4317))
        #expect(p.ingress(to: agent, from: .init(namespace: "apps"), port: 4318))
        #expect(!p.ingress(to: agent, from: .init(namespace: "elsewhere"), port: 4317))
    }

    @Test func scrapeFromPrometheusIsAllowedAndFromTheAppNamespaceDenied() {
        let p = evaluated
        #expect(p.ingress(to: agent, from: .init(namespace: "monitoring", labels: ["app": "prometheus"]), port: 8889))
        #expect(!p.ingress(to: agent, from: .init(namespace: "monitoring", labels: ["app": "grafana"]), port: 8889))
        #expect(!p.ingress(to: agent, from: .init(namespace: "apps"), port: 8889))
        // The app's OTLP allowance does not open the metrics port.
        #expect(!p.ingress(to: agent, from: .init(namespace: "apps"), port: 8889))
    }

    @Test func egressToLokisNamespaceAndPortIsAllowedAnotherPortDeniedAndDNSAllowed() {
        let p = evaluated
        let loki = PolicyEvaluator.Pod(namespace: "logging", labels: ["app": "loki"], ip: "10.244.9.9")
        #expect(p.egress(from: agent, to: loki, port: 3100))
        #expect(!p.egress(from: agent, to: loki, port: 9999))
        #expect(!p.egress(from: agent, to: .init(namespace: "other", ip: "10.244.8.8"), port: 3100))
        let dns = PolicyEvaluator.Pod(namespace: "kube-system", labels: ["k8s-app": "kube-dns"], ip: "10.244.0.2")
        #expect(p.egress(from: agent, to: dns, port: 53, proto: "UDP"))
        #expect(p.egress(from: agent, to: dns, port: 53, proto: "TCP"))
        #expect(!p.egress(from: agent, to: .init(namespace: "kube-system", labels: ["k8s-app": "other"]), port: 53, proto: "UDP"))
        // Without k8sattributes no collector talks to the API server: no egress to it, at any address.
        for port in [443, 6443] {
            #expect(!p.egress(from: agent, to: .init(namespace: "default", ip: "10.96.0.1"), port: port))
            #expect(!p.egress(from: agent, to: .init(namespace: "default", ip: "172.18.0.2"), port: port))
        }
    }

    @Test func anExternalHostIsOpenByPortOnlyToEgressToCIDRsWhenGiven() {
        let open = evaluated
        // Tempo is outside the cluster and no egressTo is set: its port is open to all.
        #expect(open.egress(from: agent, to: .init(namespace: "x", ip: "203.0.113.7"), port: 4317))
        #expect(!open.egress(from: agent, to: .init(namespace: "x", ip: "203.0.113.7"), port: 4318))
        let s = stack { spec in
            spec.exporters = ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.example.com:4317"))
            spec.networkPolicy = NetworkPolicySpec(egressTo: ["203.0.113.0/24"])
        }
        let narrowed = PolicyEvaluator(StackContext(s))
        #expect(narrowed.egress(from: agent, to: .init(namespace: "x", ip: "203.0.113.7"), port: 4317))
        #expect(!narrowed.egress(from: agent, to: .init(namespace: "x", ip: "198.51.100.7"), port: 4317))
        #expect(NetworkPolicyRender.externalHosts(StackContext(s)) == ["tempo.example.com"])
    }

    @Test func withoutClientsOrIngestFromOnlyTheStacksNamespaceMayIngest() {
        let p = PolicyEvaluator(StackContext(stack { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(enabled: false)) }))
        #expect(p.ingress(to: agent, from: .init(namespace: "team"), port: 4317))
        #expect(!p.ingress(to: agent, from: .init(namespace: "apps"), port: 4317))
    }

    @Test func ingestFromPeersReplaceTheDefaultAndIPBlockExceptionsHold() {
        let s = stack { spec in
            spec.networkPolicy = NetworkPolicySpec(ingestFrom: [PeerSpec(ipBlock: IPBlock(cidr: "10.0.0.0/8", except: ["10.1.0.0/16"]))])
        }
        let p = PolicyEvaluator(StackContext(s))
        #expect(p.ingress(to: agent, from: .init(namespace: "any", ip: "10.2.3.4"), port: 4317))
        #expect(!p.ingress(to: agent, from: .init(namespace: "any", ip: "10.1.3.4"), port: 4317))
        #expect(!p.ingress(to: agent, from: .init(namespace: "team", ip: "192.168.1.1"), port: 4317))
    }

    static let nodes = ["172.18.0.2", "172.18.0.3"]

    /// A production stack with a gateway, two client namespaces and Tempo in-cluster.
    var gatewayed: PolicyEvaluator {
        let s = stack(.production) { spec in
            spec.collector = CollectorSpec(gateway: GatewaySpec(replicas: 2))
            spec.ingest = IngestSpec(basicAuth: BasicAuthSpec(clients: [ClientRef(name: "api", namespace: "apps"), ClientRef(name: "web", namespace: "team")]))
            spec.exporters = ExportersSpec(tempo: TempoExporterSpec(endpoint: "tempo.tracing.svc:4317"))
        }
        return PolicyEvaluator(StackContext(s), nodes: Self.nodes)
    }

    let gateway = PolicyEvaluator.Pod(namespace: "team", labels: [Labels.stack: "obs", Labels.component: "gateway"], ip: "10.244.2.2")

    @Test func theGatewayTakesAgentsTrafficAndNobodyElses() {
        let p = gatewayed
        #expect(p.policies.count == 2)
        #expect(p.ingress(to: gateway, from: agent, port: 4317))
        #expect(p.egress(from: agent, to: gateway, port: 4317))
        // A client pod may reach the agents, never the gateway: not from its own namespace
        // (`team` is a client namespace here), not from another client namespace.
        for client in [PolicyEvaluator.Pod(namespace: "apps", labels: ["app": "api"]), PolicyEvaluator.Pod(namespace: "team", labels: ["app": "web"])] {
            #expect(p.ingress(to: agent, from: client, port: 4317))
            #expect(!p.ingress(to: gateway, from: client, port: 4317), "\(client)")
        }
        // Another stack's agents in the same namespace are not this stack's.
        #expect(!p.ingress(to: gateway, from: .init(namespace: "team", labels: [Labels.stack: "other", Labels.component: "agent"]), port: 4317))
        #expect(!p.ingress(to: gateway, from: .init(namespace: "team", labels: ["app": "other"]), port: 8889))
        // Prometheus scrapes the gateway's own metrics; the gateway sends to Tempo, the
        // agents (whose traces go through the gateway) do not.
        #expect(p.ingress(to: gateway, from: .init(namespace: "monitoring"), port: 8888))
        let tempo = PolicyEvaluator.Pod(namespace: "tracing", labels: ["app": "tempo"], ip: "10.244.7.7")
        #expect(p.egress(from: gateway, to: tempo, port: 4317))
        #expect(!p.egress(from: agent, to: tempo, port: 4317))
        #expect(!p.egress(from: gateway, to: .init(namespace: "default", ip: "10.96.0.1"), port: 443))
    }

    @Test func withNodesKnownNoIngressRuleAdmitsEveryPeer() {
        let p = gatewayed
        #expect(p.openIngressRules.isEmpty, "\(p.openIngressRules)")
        for pod in [agent, gateway] {
            #expect(p.ingress(to: pod, from: .init(namespace: "-", ip: "172.18.0.3"), port: 13133))
            #expect(!p.ingress(to: pod, from: .init(namespace: "apps", ip: "10.244.3.3"), port: 13133))
        }
    }

    @Test func withoutNodesOrNodeCIDRsTheHealthPortIsOpenAndSaidSo() {
        let ctx = StackContext(stack(.production))
        #expect(NetworkPolicyRender.healthPortOpen(ctx, nodeAddresses: []))
        #expect(!NetworkPolicyRender.healthPortOpen(ctx, nodeAddresses: Self.nodes))
        let open = PolicyEvaluator(ctx)
        #expect(open.ingress(to: agent, from: .init(namespace: "apps", ip: "10.244.3.3"), port: 13133))
        #expect(open.openIngressRules.count == 1)
        // Addresses that are not IPs never become peers.
        #expect(NetworkPolicyRender.healthPeers(ctx, nodeAddresses: ["node-1.example", "172.18.0.2"])?.count == 1)
    }

    @Test func kubeletProbesComeFromTheNodeCIDRs() {
        let s = stack { $0.networkPolicy = NetworkPolicySpec(nodeCIDRs: ["172.16.0.0/16"]) }
        // The spec's CIDRs win over the nodes' addresses.
        let p = PolicyEvaluator(StackContext(s), nodes: Self.nodes)
        #expect(p.ingress(to: agent, from: .init(namespace: "-", ip: "172.16.4.4"), port: 13133))
        #expect(!p.ingress(to: agent, from: .init(namespace: "-", ip: "10.9.9.9"), port: 13133))
        #expect(!p.ingress(to: agent, from: .init(namespace: "-", ip: "172.18.0.2"), port: 13133))
    }
}

/// The byte-level address and endpoint readers against the Character-based ones they
/// replaced (kept here as the reference), on random strings of the bytes that matter to
/// them. On ASCII the two must agree; only non-ASCII (combining marks, full-width digits)
/// is read differently now, as bytes, the way the consumers read it.
@Suite struct AddressReaderAgreementTests {
    enum Reference {
        static func isASCIIDigit(_ c: Character) -> Bool { c >= "0" && c <= "9" }

        static func isIPv4(_ s: String) -> Bool {
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            return parts.count == 4
                && parts.allSatisfy { p in
                    !p.isEmpty && p.count <= 3 && p.allSatisfy(isASCIIDigit) && Int(p)! <= 255 && !(p.count > 1 && p.first == "0")
                }
        }

        static func isIPv6(_ s: String) -> Bool {
            guard s.utf8.contains(UInt8(ascii: ":")), s.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return false }
            var doubleColons = 0
            let colons = Array(s.utf8)
            var i = 0
            while i + 1 < colons.count {
                if colons[i] == UInt8(ascii: ":") && colons[i + 1] == UInt8(ascii: ":") {
                    doubleColons += 1
                    i += 2
                } else {
                    i += 1
                }
            }
            guard doubleColons <= 1 else { return false }
            let groups = s.split(separator: ":", omittingEmptySubsequences: true)
            guard groups.allSatisfy({ $0.count <= 4 || ($0.contains(".") && isIPv4(String($0))) }) else { return false }
            return doubleColons == 1 ? groups.count < 8 : groups.count == 8
        }

        static func isValidCIDR(_ s: String) -> Bool {
            let parts = s.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 2, let bits = Int(parts[1]), parts[1].allSatisfy(isASCIIDigit) else { return false }
            let ip = String(parts[0])
            if isIPv4(ip) { return (0...32).contains(bits) }
            if isIPv6(ip) { return (0...128).contains(bits) }
            return false
        }

        static func hostAndPort(_ endpoint: String) -> (host: String, port: Int)? {
            var rest = Substring(endpoint)
            var defaultPort: Int? = nil
            if let r = rest.firstRange(of: "://") {
                let scheme = rest[..<r.lowerBound].lowercased()
                defaultPort = scheme == "https" ? 443 : scheme == "http" ? 80 : nil
                rest = rest[r.upperBound...]
            }
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            if let at = rest.lastIndex(of: "@") { rest = rest[rest.index(after: at)...] }
            var host: Substring
            var portText: Substring? = nil
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { return nil }
                host = rest[rest.index(after: rest.startIndex)..<close]
                let after = rest[rest.index(after: close)...]
                if after.hasPrefix(":") { portText = after.dropFirst() }
            } else if let colon = rest.lastIndex(of: ":") {
                host = rest[..<colon]
                portText = rest[rest.index(after: colon)...]
            } else {
                host = rest
            }
            guard !host.isEmpty else { return nil }
            let port = portText.flatMap { Int($0) } ?? defaultPort
            guard let port, (1...65535).contains(port) else { return nil }
            return (String(host).lowercased(), port)
        }

        static func destination(host: String, stackNamespace: String) -> String {
            if IPAddress.isValid(host) { return "ip:\(host)" }
            let labels = host.split(separator: ".").map(String.init)
            if labels.count == 1 { return "ns:\(stackNamespace)" }
            if labels.count == 2 { return "ns:\(labels[1])" }
            if labels.count == 3, labels[2] == "svc" { return "ns:\(labels[1])" }
            if labels.count == 5, labels[2] == "svc", labels[3] == "cluster", labels[4] == "local" { return "ns:\(labels[1])" }
            return "external:\(host)"
        }
    }

    static func described(_ d: EgressTarget.Destination) -> String {
        switch d {
        case .namespace(let n): "ns:\(n)"
        case .ip(let i): "ip:\(i)"
        case .external(let h): "external:\(h)"
        }
    }

    /// Strings of `pieces`, 0 to 12 of them, from a fixed seed.
    static func strings(_ pieces: [String], count: Int, seed: UInt64) -> [String] {
        var state = seed
        func next() -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int(truncatingIfNeeded: state >> 33)
        }
        return (0..<count).map { _ in (0..<(next() % 13)).map { _ in pieces[next() % pieces.count] }.joined() }
    }

    @Test func addressesAgreeOnASCII() {
        let pieces = ["0", "1", "2", "5", "9", "25", "255", "256", "01", "a", "f", "F", "g", ".", ":", "::", "ffff", "12345", "1.2.3.4", "/", "/24", "/128", "+"]
        var valid = (v4: 0, v6: 0, cidr: 0)
        for s in Self.strings(pieces, count: 20_000, seed: 7) {
            #expect(IPAddress.isIPv4(s) == Reference.isIPv4(s), "isIPv4(\(s))")
            #expect(IPAddress.isIPv6(s) == Reference.isIPv6(s), "isIPv6(\(s))")
            #expect(IPAddress.isValidCIDR(s) == Reference.isValidCIDR(s), "isValidCIDR(\(s))")
            if IPAddress.isIPv4(s) { valid.v4 += 1 }
            if IPAddress.isIPv6(s) { valid.v6 += 1 }
            if IPAddress.isValidCIDR(s) { valid.cidr += 1 }
        }
        // Every answer is exercised.
        #expect(valid.v4 > 20 && valid.v6 > 20 && valid.cidr > 20, "\(valid)")
    }

    @Test func endpointsAndDestinationsAgreeOnASCII() {
        let pieces = ["https", "HTTP", "http", "://", ":", "/", "@", "[", "]", "loki", "Loki", ".", "svc", "cluster", "local", "logging", "4317", "0", "70000", "+8", "fd00::1", "10.0.0.1", "x"]
        var found = 0
        for s in Self.strings(pieces, count: 20_000, seed: 11) {
            let new = NetworkPolicyRender.hostAndPort(s)
            let old = Reference.hostAndPort(s)
            #expect(new?.host == old?.host && new?.port == old?.port, "hostAndPort(\(s))")
            if let hp = new {
                found += 1
                #expect(Self.described(NetworkPolicyRender.destination(host: hp.host, stackNamespace: "team")) == Reference.destination(host: hp.host, stackNamespace: "team"), "destination(\(hp.host))")
            }
        }
        #expect(found > 500, "\(found) endpoints read")
    }

    /// Where the Character-based readers trapped or read a Character as a digit, the byte
    /// readers answer no.
    @Test func nonASCIIDigitsAreNoAddress() {
        for s in ["1\u{301}.2.3.4", "10.0.0.1\u{301}", "\u{FF11}.2.3.4", "fd00::\u{FF11}", "fd00::1\u{301}"] {
            #expect(!IPAddress.isValid(s), "\(s)")
            #expect(!IPAddress.isValidCIDR(s + "/32"), "\(s)/32")
        }
        #expect(Self.described(NetworkPolicyRender.destination(host: "1\u{301}.2.3.4", stackNamespace: "team")) == "external:1\u{301}.2.3.4")
        // Non-ASCII hosts are still lower-cased as Unicode.
        #expect(NetworkPolicyRender.hostAndPort("https://LÖKI.example/x")?.host == "löki.example")
    }
}

@Suite struct TempoQueryURLTests {
    @Test(arguments: [
        ("tempo.tracing.svc:4317", false, "https://tempo.tracing.svc:3200"),
        ("tempo.tracing.svc:4317", true, "http://tempo.tracing.svc:3200"),
        ("http://tempo:4317/x:y", false, "http://tempo:3200"),
        ("HTTPS://Tempo.example.com/otlp", false, "https://Tempo.example.com:3200"),
        ("[fd00::1]:4317", false, "https://[fd00::1]:3200"),
        ("[fd00::1]", false, "https://[fd00::1]:3200"),
    ])
    func theQueryURLIsTheEndpointsHostOnTempoPort(_ endpoint: String, _ insecure: Bool, _ expected: String) {
        let s = stack(.development) { $0.exporters = ExportersSpec(tempo: TempoExporterSpec(endpoint: endpoint, insecure: insecure)) }
        #expect(GrafanaRender.tempoURL(StackContext(s)) == expected)
    }
}
