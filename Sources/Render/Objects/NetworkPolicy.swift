import Foundation
import KubeModel

/// Where the Kubernetes API server really listens (the `default/kubernetes` Endpoints):
/// NetworkPolicies see traffic after the Service's address translation, so egress to
/// the API must name these addresses.
public struct APIServerEndpoint: Sendable, Hashable {
    public var ip: String
    public var port: Int
    public init(ip: String, port: Int) {
        self.ip = ip
        self.port = port
    }
}

/// A backend the collector sends to, as a NetworkPolicy can (or cannot) name it.
public struct EgressTarget: Sendable, Hashable {
    public enum Destination: Sendable, Hashable {
        /// A Service in the cluster: its namespace.
        case namespace(String)
        /// An address literal.
        case ip(String)
        /// A host name outside the cluster: a NetworkPolicy cannot name it.
        case external(String)
    }
    public var exporter: String
    public var destination: Destination
    public var port: Int
}

/// The stack's NetworkPolicy `<stack>-collector`, for the agent and gateway pods, in both
/// directions. Pure: the API server's endpoints come in as input.
public enum NetworkPolicyRender {
    public static let resource = ResourceDescriptor(group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies")
    /// The label every namespace carries with its own name (Kubernetes 1.21+ sets it; on
    /// older clusters label the namespaces yourself).
    public static let namespaceNameLabel = "kubernetes.io/metadata.name"

    /// Host and port of an exporter endpoint: `https://host[:port]/path`, `host:port`, or
    /// `[v6]:port`. The scheme's default port applies when none is given.
    public static func hostAndPort(_ endpoint: String) -> (host: String, port: Int)? {
        var rest = Substring(endpoint)
        var defaultPort: Int? = nil
        if let r = rest.range(of: "://") {
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

    /// How a host is reached: in-cluster Service names give their namespace (a bare name
    /// is the stack's own), address literals themselves, anything else is external.
    public static func destination(host: String, stackNamespace: String) -> EgressTarget.Destination {
        if IPAddress.isValid(host) { return .ip(host) }
        let labels = host.split(separator: ".").map(String.init)
        if labels.count == 1 { return .namespace(stackNamespace) }
        if labels.count == 2 { return .namespace(labels[1]) }
        if labels.count == 3, labels[2] == "svc" { return .namespace(labels[1]) }
        if labels.count == 5, labels[2] == "svc", labels[3] == "cluster", labels[4] == "local" { return .namespace(labels[1]) }
        return .external(host)
    }

    /// The backends the agents and gateway export to.
    public static func targets(_ ctx: StackContext) -> [EgressTarget] {
        let ns = ctx.namespace
        var out: [EgressTarget] = []
        let ex = ctx.raw.exporters
        for (name, endpoint) in [("loki", ex?.loki?.endpoint), ("tempo", ex?.tempo?.endpoint), ("remoteWrite", ex?.remoteWrite?.url)] {
            guard let endpoint, let hp = hostAndPort(endpoint) else { continue }
            out.append(EgressTarget(exporter: name, destination: destination(host: hp.host, stackNamespace: ns), port: hp.port))
        }
        return out
    }

    /// The external hosts among the backends, which the policy can only open by port.
    public static func externalHosts(_ ctx: StackContext) -> [String] {
        targets(ctx).compactMap {
            if case .external(let h) = $0.destination { return h }
            return nil
        }
    }

    static func selector(_ s: LabelSelector) -> JSONValue {
        var o: [String: JSONValue] = [:]
        if let m = s.matchLabels { o["matchLabels"] = .object(m.mapValues(JSONValue.string)) }
        if let e = s.matchExpressions {
            o["matchExpressions"] = .array(e.map { r in
                var x: [String: JSONValue] = ["key": .string(r.key), "operator": .string(r.operator)]
                if let v = r.values { x["values"] = .array(v.map(JSONValue.string)) }
                return .object(x)
            })
        }
        return .object(o)
    }

    static func peer(_ p: PeerSpec) -> JSONValue {
        var o: [String: JSONValue] = [:]
        if let n = p.namespaceSelector { o["namespaceSelector"] = selector(n) }
        if let s = p.podSelector { o["podSelector"] = selector(s) }
        if let b = p.ipBlock {
            var block: [String: JSONValue] = ["cidr": .string(b.cidr)]
            if let e = b.except, !e.isEmpty { block["except"] = .array(e.map(JSONValue.string)) }
            o["ipBlock"] = .object(block)
        }
        return .object(o)
    }

    static func namespacePeer(_ ns: String) -> JSONValue {
        ["namespaceSelector": ["matchLabels": .object([namespaceNameLabel: .string(ns)])]]
    }

    static func ipPeer(_ ip: String) -> JSONValue {
        ["ipBlock": ["cidr": .string(ip + (ip.contains(":") ? "/128" : "/32"))]]
    }

    static func ports(_ ports: [Int], _ proto: String = "TCP") -> JSONValue {
        .array(ports.map { ["protocol": .string(proto), "port": .int($0)] })
    }

    static func rule(_ direction: String, peers: [JSONValue]?, ports p: JSONValue) -> JSONValue {
        var o: [String: JSONValue] = ["ports": p]
        if let peers { o[direction] = .array(peers) }
        return .object(o)
    }

    /// The policy, or nil when the stack's profile turns it off. `apiServer` lists the
    /// API server's real addresses; empty (offline rendering) opens its usual ports by port.
    public static func render(_ ctx: StackContext, apiServer: [APIServerEndpoint] = []) -> JSONValue? {
        let eff = ctx.spec
        guard eff.networkPolicy else { return nil }
        let name = ctx.name
        let ns = ctx.namespace
        let np = ctx.raw.networkPolicy
        let instance = Naming.shorten(name)
        let agent = JSONValue.object([
            "podSelector": ["matchLabels": .object([Labels.instance: .string(instance), Labels.component: .string(CollectorRole.agent.rawValue)])]
        ])
        let gateway = JSONValue.object([
            "podSelector": ["matchLabels": .object([Labels.instance: .string(instance), Labels.component: .string(CollectorRole.gateway.rawValue)])]
        ])

        // Ingress.
        var ingress: [JSONValue] = []
        var ingestPeers = (np?.ingestFrom ?? []).map(peer)
        if ingestPeers.isEmpty {
            // The declared clients' namespaces, else the stack's own.
            var namespaces = Array(Set(eff.clients.map(\.namespace))).sorted()
            if namespaces.isEmpty { namespaces = [ns] }
            ingestPeers = namespaces.map(namespacePeer)
        }
        ingress.append(rule("from", peers: ingestPeers, ports: ports([CollectorPorts.otlpGRPC, CollectorPorts.otlpHTTP])))
        let metricsPeers = (np?.metricsFrom ?? []).map(peer)
        ingress.append(rule("from", peers: metricsPeers.isEmpty ? [namespacePeer("monitoring")] : metricsPeers, ports: ports([CollectorPorts.metrics, CollectorPorts.telemetry])))
        // Kubelet probes come from the node: by CIDR when the spec gives them.
        let nodes = (np?.nodeCIDRs ?? []).map { JSONValue.object(["ipBlock": ["cidr": .string($0)]]) }
        ingress.append(rule("from", peers: nodes.isEmpty ? nil : nodes, ports: ports([CollectorPorts.health])))
        if eff.gatewayReplicas > 0 {
            ingress.append(rule("from", peers: [agent], ports: ports([CollectorPorts.otlpGRPC])))
        }

        // Egress.
        var egress: [JSONValue] = []
        egress.append(
            rule(
                "to",
                peers: [["namespaceSelector": ["matchLabels": .object([namespaceNameLabel: "kube-system"])], "podSelector": ["matchLabels": ["k8s-app": "kube-dns"]]]],
                ports: .array([["protocol": "UDP", "port": 53], ["protocol": "TCP", "port": 53]])
            )
        )
        var external: [Int] = []
        for t in targets(ctx) {
            switch t.destination {
            case .namespace(let n): egress.append(rule("to", peers: [namespacePeer(n)], ports: ports([t.port])))
            case .ip(let ip): egress.append(rule("to", peers: [ipPeer(ip)], ports: ports([t.port])))
            case .external: if !external.contains(t.port) { external.append(t.port) }
            }
        }
        if !external.isEmpty {
            let cidrs = (np?.egressTo ?? []).map { JSONValue.object(["ipBlock": ["cidr": .string($0)]]) }
            egress.append(rule("to", peers: cidrs.isEmpty ? nil : cidrs, ports: ports(external.sorted())))
        }
        // The API server, for resourcedetection and k8sattributes.
        if apiServer.isEmpty {
            egress.append(rule("to", peers: nil, ports: ports([443, 6443])))
        } else {
            let byPort = Dictionary(grouping: apiServer, by: \.port)
            for port in byPort.keys.sorted() {
                egress.append(rule("to", peers: byPort[port]!.map(\.ip).sorted().map(ipPeer), ports: ports([port])))
            }
        }
        if eff.gatewayReplicas > 0 {
            egress.append(rule("to", peers: [gateway], ports: ports([CollectorPorts.otlpGRPC])))
        }

        return [
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": ["name": .string(Naming.collector(name)), "namespace": .string(ns)],
            "spec": [
                "podSelector": [
                    "matchLabels": .object([Labels.instance: .string(instance)]),
                    "matchExpressions": [["key": .string(Labels.component), "operator": "In", "values": ["agent", "gateway"]]],
                ],
                "policyTypes": ["Ingress", "Egress"],
                "ingress": .array(ingress),
                "egress": .array(egress),
            ],
        ]
    }
}
