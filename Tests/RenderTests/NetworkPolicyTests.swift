import Foundation
import KubeModel
import Render
import Testing

/// Evaluates a NetworkPolicy the way the API defines it (selectors, ports, ipBlock with
/// exceptions), so that the tests below check what the policy allows, not its text.
struct PolicyEvaluator {
    struct Pod {
        var namespace: String
        var labels: [String: String] = [:]
        var ip: String = "192.0.2.1"
        var namespaceLabels: [String: String] { [NetworkPolicyRender.namespaceNameLabel: namespace] }
    }

    let policy: JSONValue

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

    func selects(_ pod: Pod) -> Bool {
        policy["metadata"]?["namespace"]?.stringValue == pod.namespace && Self.matches(policy["spec"]?["podSelector"], pod.labels)
    }

    func allowed(_ rules: [JSONValue], peerKey: String, peer: Pod, port: Int, proto: String) -> Bool {
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
        guard selects(target) else { return true }
        return allowed(policy["spec"]?["ingress"]?.arrayValue ?? [], peerKey: "from", peer: source, port: port, proto: proto)
    }

    func egress(from source: Pod, to dest: Pod, port: Int, proto: String = "TCP") -> Bool {
        guard selects(source) else { return true }
        return allowed(policy["spec"]?["egress"]?.arrayValue ?? [], peerKey: "to", peer: dest, port: port, proto: proto)
    }
}

@Suite struct NetworkPolicyTests {
    func stack(_ env: Environment = .staging, _ edit: (inout StackSpec) -> Void = { _ in }) -> ObservabilityStack {
        var spec = StackSpec(environment: env)
        edit(&spec)
        return ObservabilityStack(metadata: ObjectMeta(name: "obs", namespace: "team"), spec: spec)
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
    ])
    func endpoints(_ sentence: String, _ endpoint: String, _ host: String, _ port: Int) {
        let hp = NetworkPolicyRender.hostAndPort(endpoint)
        #expect(hp?.host == host && hp?.port == port, Comment(rawValue: sentence))
    }

    @Test func developmentHasNoPolicyStagingAndProductionDoAndTheSpecOverrides() {
        #expect(NetworkPolicyRender.render(StackContext(stack(.development))) == nil)
        #expect(NetworkPolicyRender.render(StackContext(stack(.staging))) != nil)
        #expect(NetworkPolicyRender.render(StackContext(stack(.production))) != nil)
        #expect(NetworkPolicyRender.render(StackContext(stack(.development) { $0.networkPolicy = NetworkPolicySpec(enabled: true) })) != nil)
        #expect(NetworkPolicyRender.render(StackContext(stack(.production) { $0.networkPolicy = NetworkPolicySpec(enabled: false) })) == nil)
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
        return PolicyEvaluator(policy: NetworkPolicyRender.render(StackContext(s), apiServer: [APIServerEndpoint(ip: "10.96.0.10", port: 6443)])!)
    }

    let agent = PolicyEvaluator.Pod(namespace: "team", labels: [Labels.instance: "obs", Labels.component: "agent"], ip: "10.244.1.5")

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
        // The API server at its real address; not any address on that port.
        #expect(p.egress(from: agent, to: .init(namespace: "default", ip: "10.96.0.10"), port: 6443))
        #expect(!p.egress(from: agent, to: .init(namespace: "default", ip: "10.96.0.11"), port: 6443))
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
        let narrowed = PolicyEvaluator(policy: NetworkPolicyRender.render(StackContext(s))!)
        #expect(narrowed.egress(from: agent, to: .init(namespace: "x", ip: "203.0.113.7"), port: 4317))
        #expect(!narrowed.egress(from: agent, to: .init(namespace: "x", ip: "198.51.100.7"), port: 4317))
        #expect(NetworkPolicyRender.externalHosts(StackContext(s)) == ["tempo.example.com"])
    }

    @Test func withoutClientsOrIngestFromOnlyTheStacksNamespaceMayIngest() {
        let p = PolicyEvaluator(policy: NetworkPolicyRender.render(StackContext(stack { $0.ingest = IngestSpec(basicAuth: BasicAuthSpec(enabled: false)) }))!)
        #expect(p.ingress(to: agent, from: .init(namespace: "team"), port: 4317))
        #expect(!p.ingress(to: agent, from: .init(namespace: "apps"), port: 4317))
    }

    @Test func ingestFromPeersReplaceTheDefaultAndIPBlockExceptionsHold() {
        let s = stack { spec in
            spec.networkPolicy = NetworkPolicySpec(ingestFrom: [PeerSpec(ipBlock: IPBlock(cidr: "10.0.0.0/8", except: ["10.1.0.0/16"]))])
        }
        let p = PolicyEvaluator(policy: NetworkPolicyRender.render(StackContext(s))!)
        #expect(p.ingress(to: agent, from: .init(namespace: "any", ip: "10.2.3.4"), port: 4317))
        #expect(!p.ingress(to: agent, from: .init(namespace: "any", ip: "10.1.3.4"), port: 4317))
        #expect(!p.ingress(to: agent, from: .init(namespace: "team", ip: "192.168.1.1"), port: 4317))
    }

    @Test func theGatewayTakesAgentsTrafficAndNobodyElses() {
        let s = stack { $0.collector = CollectorSpec(gateway: GatewaySpec(replicas: 2)) }
        let p = PolicyEvaluator(policy: NetworkPolicyRender.render(StackContext(s))!)
        let gateway = PolicyEvaluator.Pod(namespace: "team", labels: [Labels.instance: "obs", Labels.component: "gateway"], ip: "10.244.2.2")
        #expect(p.ingress(to: gateway, from: agent, port: 4317))
        #expect(p.egress(from: agent, to: gateway, port: 4317))
        #expect(!p.ingress(to: gateway, from: .init(namespace: "team", labels: ["app": "other"]), port: 8889))
    }

    @Test func kubeletProbesComeFromTheNodeCIDRs() {
        let s = stack { $0.networkPolicy = NetworkPolicySpec(nodeCIDRs: ["172.16.0.0/16"]) }
        let p = PolicyEvaluator(policy: NetworkPolicyRender.render(StackContext(s))!)
        #expect(p.ingress(to: agent, from: .init(namespace: "-", ip: "172.16.4.4"), port: 13133))
        #expect(!p.ingress(to: agent, from: .init(namespace: "-", ip: "10.9.9.9"), port: 13133))
    }
}
