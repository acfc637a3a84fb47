import Foundation
import KubeModel
import Render
import Testing
import Yams

@Suite struct WorkloadTests {
    func daemonSet(_ edit: (inout StackSpec) -> Void) throws -> JSONValue {
        var s = stack(.production, edit)
        s.metadata.uid = "u"
        return try #require(try DesiredState.render(StackContext(s)).objects.first { $0.resource.kind == "DaemonSet" }).body
    }

    @Test func resourcesTolerationsAndNodeSelectorComeFromTheSpec() throws {
        let ds = try daemonSet {
            $0.collector = CollectorSpec(
                resources: ResourceRequirements(limits: ["memory": "3Gi"], requests: ["cpu": "250m"]),
                tolerations: [Toleration(key: "dedicated", operator: "Equal", value: "obs", effect: "NoSchedule")],
                nodeSelector: ["pool": "observability"]
            )
        }
        let pod = ds["spec"]?["template"]?["spec"]
        #expect(pod?["nodeSelector"] == ["pool": "observability"])
        #expect(pod?["tolerations"]?.arrayValue?.first?["key"] == "dedicated")
        let c = pod?["containers"]?.arrayValue?.first
        #expect(c?["resources"]?["limits"]?["memory"] == "3Gi")
        #expect(c?["resources"]?["requests"]?["cpu"] == "250m")
    }

    /// Telemetry is attributed to the node, not the collector's pod: the system detector's
    /// host.name (the pod's hostname) is off, and host.name and k8s.node.name come from the
    /// node the pod runs on (the downward API), where the telemetry does not carry them.
    @Test func hostNameIsTheNodesNotTheCollectorPods() throws {
        let ctx = StackContext(stack(.production) { _ in })
        let agent = CollectorConfig.agent(ctx)
        let detection = agent["processors"]?["resourcedetection"]
        #expect(detection?["system"]?["resource_attributes"]?["host.name"]?["enabled"] == false)
        let attributes = agent["processors"]?["resource"]?["attributes"]?.arrayValue ?? []
        for key in ["host.name", "k8s.node.name"] {
            #expect(attributes.contains { $0["key"] == .string(key) && $0["value"] == "${env:K8S_NODE_NAME}" && $0["action"] == "insert" }, "\(key)")
        }
        let env = try daemonSet { _ in }["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
        #expect(env.contains { $0["name"] == "K8S_NODE_NAME" && $0["valueFrom"]?["fieldRef"]?["fieldPath"] == "spec.nodeName" })
        // The config check agrees every variable the config names is set in the pod.
        #expect(ConfigCheck.check(ctx).isEmpty)
    }

    @Test func secretsAreMountedAsReadOnlyDirectoriesNeverSubPath() throws {
        let ds = try daemonSet {
            $0.exporters = ExportersSpec(loki: LokiExporterSpec(endpoint: "https://loki/otlp", credentialsSecret: CredentialsRef(name: "loki"), caSecret: SecretKeyRef(name: "loki-ca", key: "bundle.pem")))
        }
        let pod = try #require(ds["spec"]?["template"]?["spec"])
        let mounts = pod["containers"]?.arrayValue?.first?["volumeMounts"]?.arrayValue ?? []
        #expect(!mounts.isEmpty)
        // Read-only, but the collector's own storage directory.
        #expect(mounts.allSatisfy { $0["subPath"] == nil && ($0["readOnly"] == true || $0["mountPath"] == "/var/lib/otelcol/storage") })
        let volumes = pod["volumes"]?.arrayValue ?? []
        let tls = volumes.first { $0["name"] == "ingest-tls" }
        #expect(tls?["secret"]?["secretName"] == "obs-ingest-tls")
        let ca = volumes.first { $0["name"] == "loki-ca" }
        #expect(ca?["secret"]?["items"] == [["key": "bundle.pem", "path": "ca.crt"]])
        // The node's directories, one per receiver, never `/`.
        let hostPaths = volumes.compactMap { $0["hostPath"]?["path"]?.stringValue }
        #expect(hostPaths == ["/proc", "/sys", "/var/log/pods", "/var/lib/vigil/team/obs"])
        #expect(volumes.allSatisfy { $0["hostPath"] == nil || $0["hostPath"]?["type"] == "Directory" || $0["name"] == "storage" })
        let env = pod["containers"]?.arrayValue?.first?["env"]?.arrayValue ?? []
        #expect(env.contains { $0["name"] == "LOKI_PASSWORD" && $0["valueFrom"]?["secretKeyRef"]?["name"] == "loki" })
        #expect(ds["spec"]?["updateStrategy"]?["type"] == "RollingUpdate")
    }

    @Test func withoutHostAccessTheCollectorRunsAsNonRoot() throws {
        let ds = try daemonSet { $0.collector = CollectorSpec(hostMetrics: HostMetricsSpec(enabled: false), fileLogs: FileLogsSpec(enabled: false)) }
        let sc = ds["spec"]?["template"]?["spec"]?["containers"]?.arrayValue?.first?["securityContext"]
        #expect(sc?["runAsNonRoot"] == true)
        #expect(sc?["readOnlyRootFilesystem"] == true)
        #expect(sc?["allowPrivilegeEscalation"] == false)
        #expect(sc?["capabilities"]?["drop"] == ["ALL"])
    }

    @Test func thePodTemplateHashFollowsMountedMaterial() throws {
        var s = stack(.production)
        s.metadata.uid = "u"
        func hash(_ inputs: RenderInputs) throws -> JSONValue? {
            try DesiredState.render(StackContext(s), inputs: inputs).objects.first { $0.resource.kind == "DaemonSet" }?
                .body["spec"]?["template"]?["metadata"]?["annotations"]?[Annotations.configHash]
        }
        #expect(try hash(RenderInputs(mountedMaterialHash: "a")) != hash(RenderInputs(mountedMaterialHash: "b")))
    }
}
