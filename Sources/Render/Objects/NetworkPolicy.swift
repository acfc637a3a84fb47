import Foundation
import KubeModel

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

/// The stack's NetworkPolicies, in both directions: `<stack>-collector` for the agents and,
/// with a gateway, `<stack>-gateway` for its pods. Pure: the nodes' addresses come in as
/// input. Only the agents' k8sattributes processor talks to the API server: egress to it
/// exists only with that processor.
public enum NetworkPolicyRender {
    public static let resource = ResourceDescriptor(group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", plural: "networkpolicies")
    /// The label every namespace carries with its own name (Kubernetes 1.21+ sets it; on
    /// older clusters label the namespaces yourself).
    public static let namespaceNameLabel = "kubernetes.io/metadata.name"

    /// Host and port of an exporter endpoint: `https://host[:port]/path`, `host:port`, or
    /// `[v6]:port`. The scheme's default port applies when none is given.
    public static func hostAndPort(_ endpoint: String) -> (host: String, port: Int)? {
        // Bytes, as the collector's URL parser reads them, not Characters: a separator
        // followed by a combining mark is still a separator, and each Character step cost
        // hundreds of instructions (grapheme breaking; a fortieth of a render, P5).
        // The scheme ends at the first `://`, as a byte offset.
        let schemeEnd = endpoint.firstRange(ofASCII: "://").map { endpoint.utf8.distance(from: endpoint.startIndex, to: $0.lowerBound) }
        return endpoint.withUTF8Bytes { whole -> (host: String, port: Int)? in
            var b = whole[...]
            var defaultPort: Int? = nil
            if let i = schemeEnd {
                let scheme = b[..<i]
                defaultPort = equalsIgnoringASCIICase(scheme, "https") ? 443 : equalsIgnoringASCIICase(scheme, "http") ? 80 : nil
                b = b[(i + 3)...]
            }
            if let slash = b.firstIndex(of: UInt8(ascii: "/")) { b = b[..<slash] }
            if let at = b.lastIndex(of: UInt8(ascii: "@")) { b = b[(at + 1)...] }
            var host: Slice<UnsafeBufferPointer<UInt8>>
            var portText: Slice<UnsafeBufferPointer<UInt8>>? = nil
            if b.first == UInt8(ascii: "[") {
                guard let close = b.firstIndex(of: UInt8(ascii: "]")) else { return nil }
                host = b[(b.startIndex + 1)..<close]
                let after = b[(close + 1)...]
                if after.first == UInt8(ascii: ":") { portText = after.dropFirst() }
            } else if let colon = b.lastIndex(of: UInt8(ascii: ":")) {
                host = b[..<colon]
                portText = b[(colon + 1)...]
            } else {
                host = b
            }
            guard !host.isEmpty else { return nil }
            let port = portText.flatMap { Int(String(decoding: $0, as: UTF8.self)) } ?? defaultPort
            guard let port, (1...65535).contains(port) else { return nil }
            if host.allSatisfy({ $0 < 0x80 }) {
                // ASCII: lower-cased byte by byte (String's `lowercased()` is Unicode's).
                let lowered = String(unsafeUninitializedCapacity: host.count) { out in
                    for (i, c) in host.enumerated() { out[i] = asciiLowercased(c) }
                    return host.count
                }
                return (lowered, port)
            }
            return (String(decoding: host, as: UTF8.self).lowercased(), port)
        }
    }

    /// Whether `bytes` spell `word` (lower-case ASCII) in any case.
    static func equalsIgnoringASCIICase(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        for (i, c) in bytes.enumerated() where asciiLowercased(c) != word.utf8Start[i] { return false }
        return true
    }

    static func asciiLowercased(_ c: UInt8) -> UInt8 { c >= 0x41 && c <= 0x5A ? c + 0x20 : c }

    /// How a host is reached: in-cluster Service names give their namespace (a bare name
    /// is the stack's own), address literals themselves, anything else is external.
    public static func destination(host: String, stackNamespace: String) -> EgressTarget.Destination {
        if IPAddress.isValid(host) { return .ip(host) }
        // The non-empty labels between dots, as bytes.
        let labels = host.utf8.split(separator: UInt8(ascii: "."))
        func label(_ i: Int) -> String { String(decoding: labels[i], as: UTF8.self) }
        func label(_ i: Int, is word: String) -> Bool { labels[i].elementsEqual(word.utf8) }
        if labels.count == 1 { return .namespace(stackNamespace) }
        if labels.count == 2 { return .namespace(label(1)) }
        if labels.count == 3, label(2, is: "svc") { return .namespace(label(1)) }
        if labels.count == 5, label(2, is: "svc"), label(3, is: "cluster"), label(4, is: "local") { return .namespace(label(1)) }
        return .external(host)
    }

    /// The backends the agents and gateway export to (nil role: both).
    public static func targets(_ ctx: StackContext, role: CollectorRole? = nil) -> [EgressTarget] {
        let ns = ctx.namespace
        var out: [EgressTarget] = []
        let ex = ctx.raw.exporters
        // Traces leave from the gateway when there is one, else from the agents.
        let tracesFrom: CollectorRole = ctx.hasGateway ? .gateway : .agent
        var endpoints: [(String, String?)] = []
        if role == nil || role == .agent { endpoints += [("loki", ex?.loki?.endpoint), ("remoteWrite", ex?.remoteWrite?.url)] }
        if role == nil || role == tracesFrom { endpoints.append(("tempo", ex?.tempo?.endpoint)) }
        for (name, endpoint) in endpoints {
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
        var o: JSONObject = [:]
        if let m = s.matchLabels { o["matchLabels"] = .object(m.jsonObject) }
        if let e = s.matchExpressions {
            o["matchExpressions"] = .array(e.map { r in
                var x: JSONObject = ["key": .string(r.key), "operator": .string(r.operator)]
                if let v = r.values { x["values"] = .array(v.map(JSONValue.string)) }
                return .object(x)
            })
        }
        return .object(o)
    }

    static func peer(_ p: PeerSpec) -> JSONValue {
        var o: JSONObject = [:]
        if let n = p.namespaceSelector { o["namespaceSelector"] = selector(n) }
        if let s = p.podSelector { o["podSelector"] = selector(s) }
        if let b = p.ipBlock {
            var block: JSONObject = ["cidr": .string(b.cidr)]
            if let e = b.except, !e.isEmpty { block["except"] = .array(e.map(JSONValue.string)) }
            o["ipBlock"] = .object(block)
        }
        return .object(o)
    }

    static func namespacePeer(_ ns: String) -> JSONValue {
        ["namespaceSelector": ["matchLabels": .object([namespaceNameLabel: .string(ns)])]]
    }

    static func ipPeer(_ ip: String) -> JSONValue {
        ["ipBlock": ["cidr": .string(ip + (ip.utf8.contains(UInt8(ascii: ":")) ? "/128" : "/32"))]]
    }

    static func ports(_ ports: [Int], _ proto: String = "TCP") -> JSONValue {
        .array(ports.map { ["protocol": .string(proto), "port": .int($0)] })
    }

    static func rule(_ direction: String, peers: [JSONValue]?, ports p: JSONValue) -> JSONValue {
        var o: JSONObject = ["ports": p]
        if let peers { o[direction] = .array(peers) }
        return .object(o)
    }

    /// Where kubelet probes of the health port may come from: the spec's `nodeCIDRs`, else
    /// the addresses of the Node objects; nil when neither is known (the port is then open,
    /// and the status says so).
    public static func healthPeers(_ ctx: StackContext, nodeAddresses: [String]) -> [JSONValue]? {
        let cidrs = ctx.raw.networkPolicy?.nodeCIDRs ?? []
        if !cidrs.isEmpty { return cidrs.map { ["ipBlock": ["cidr": .string($0)]] } }
        let addresses = Array(Set(nodeAddresses.filter(IPAddress.isValid))).sorted()
        return addresses.isEmpty ? nil : addresses.map(ipPeer)
    }

    /// The API server's ports: the Service's and the usual endpoint's.
    public static let apiServerPorts = [443, 6443]

    /// Where the agents may reach the API server: `apiServerCIDRs`, else the nodes (their
    /// `nodeCIDRs`, else their addresses); nil (open by port) when none is known.
    public static func apiServerPeers(_ ctx: StackContext, nodeAddresses: [String]) -> [JSONValue]? {
        let cidrs = ctx.raw.networkPolicy?.apiServerCIDRs ?? []
        if !cidrs.isEmpty { return cidrs.map { ["ipBlock": ["cidr": .string($0)]] } }
        return healthPeers(ctx, nodeAddresses: nodeAddresses)
    }

    /// Whether the API server's ports are open to every address: agents that need them,
    /// and no address known.
    public static func apiServerOpen(_ ctx: StackContext, nodeAddresses: [String]) -> Bool {
        ctx.spec.networkPolicy && CollectorPod.mountsToken(ctx, role: .agent) && apiServerPeers(ctx, nodeAddresses: nodeAddresses) == nil
    }

    /// Whether the health port is open to every peer: no `nodeCIDRs` and no node address known.
    public static func healthPortOpen(_ ctx: StackContext, nodeAddresses: [String]) -> Bool {
        ctx.spec.networkPolicy && healthPeers(ctx, nodeAddresses: nodeAddresses) == nil
    }

    static func podsOf(_ ctx: StackContext, _ role: CollectorRole) -> JSONValue {
        ["podSelector": ["matchLabels": .object(CollectorPod.selector(ctx, role: role).jsonObject)]]
    }

    /// Egress rules to DNS and to the role's backends.
    static func egress(_ ctx: StackContext, role: CollectorRole) -> [JSONValue] {
        var egress: [JSONValue] = [
            rule(
                "to",
                peers: [["namespaceSelector": ["matchLabels": .object([namespaceNameLabel: "kube-system"])], "podSelector": ["matchLabels": ["k8s-app": "kube-dns"]]]],
                ports: .array([["protocol": "UDP", "port": 53], ["protocol": "TCP", "port": 53]])
            )
        ]
        var external: [Int] = []
        for t in targets(ctx, role: role) {
            switch t.destination {
            case .namespace(let n): egress.append(rule("to", peers: [namespacePeer(n)], ports: ports([t.port])))
            case .ip(let ip): egress.append(rule("to", peers: [ipPeer(ip)], ports: ports([t.port])))
            case .external: if !external.contains(t.port) { external.append(t.port) }
            }
        }
        if !external.isEmpty {
            let cidrs = (ctx.raw.networkPolicy?.egressTo ?? []).map { JSONValue.object(["ipBlock": ["cidr": .string($0)]]) }
            egress.append(rule("to", peers: cidrs.isEmpty ? nil : cidrs, ports: ports(external.sorted())))
        }
        return egress
    }

    static func policy(_ ctx: StackContext, name: String, role: CollectorRole, ingress: [JSONValue], egress: [JSONValue]) -> JSONValue {
        [
            "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": ["name": .string(name), "namespace": .string(ctx.namespace)],
            "spec": [
                "podSelector": podsOf(ctx, role)["podSelector"]!,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": .array(ingress),
                "egress": .array(egress),
            ],
        ]
    }

    /// The policies, none when the stack's profile turns them off: the agents' and, with
    /// a gateway, the gateway's.
    public static func render(_ ctx: StackContext, nodeAddresses: [String] = []) -> [JSONValue] {
        guard ctx.spec.networkPolicy else { return [] }
        let np = ctx.raw.networkPolicy
        var ingestPeers = (np?.ingestFrom ?? []).map(peer)
        if ingestPeers.isEmpty {
            // The declared clients' namespaces, else the stack's own.
            var namespaces = Array(Set(ctx.spec.clients.map(\.namespace))).sorted()
            if namespaces.isEmpty { namespaces = [ctx.namespace] }
            ingestPeers = namespaces.map(namespacePeer)
        }
        let metricsPeers = (np?.metricsFrom ?? []).map(peer)
        let scrapers = metricsPeers.isEmpty ? [namespacePeer(ctx.spec.monitoringNamespace)] : metricsPeers
        // Kubelet probes come from the node.
        let health = rule("from", peers: healthPeers(ctx, nodeAddresses: nodeAddresses), ports: ports([CollectorPorts.health]))

        var agentEgress = egress(ctx, role: .agent)
        // k8sattributes lists pods through the API server: its ports, where it answers.
        if CollectorPod.mountsToken(ctx, role: .agent) {
            agentEgress.append(rule("to", peers: apiServerPeers(ctx, nodeAddresses: nodeAddresses), ports: ports(apiServerPorts)))
        }
        if ctx.hasGateway { agentEgress.append(rule("to", peers: [podsOf(ctx, .gateway)], ports: ports([CollectorPorts.otlpGRPC]))) }
        var policies = [
            policy(
                ctx, name: ctx.names.collector, role: .agent,
                ingress: [
                    rule("from", peers: ingestPeers, ports: ports([CollectorPorts.otlpGRPC, CollectorPorts.otlpHTTP])),
                    rule("from", peers: scrapers, ports: ports([CollectorPorts.metrics, CollectorPorts.telemetry])),
                    health,
                ],
                egress: agentEgress
            )
        ]
        if ctx.hasGateway {
            // Only the stack's own agents may send to the gateway (over mTLS besides).
            policies.append(
                policy(
                    ctx, name: ctx.names.gateway, role: .gateway,
                    ingress: [
                        rule("from", peers: [podsOf(ctx, .agent)], ports: ports([CollectorPorts.otlpGRPC])),
                        rule("from", peers: scrapers, ports: ports([CollectorPorts.telemetry])),
                        health,
                    ],
                    egress: egress(ctx, role: .gateway)
                ))
        }
        return policies
    }
}
