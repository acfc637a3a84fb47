import Foundation
@testable import Controller
import KubeModel
import Render
import Testing

/// The ConfigMap cache keeps large values as digests (issue 21, memory): a cached object
/// must still tell a changed value from an unchanged one, and nothing else may change.
@Suite struct CachedFormTests {
    let large = String(repeating: "receivers:\n  otlp: {}\n", count: 40)

    func configMap(_ value: String, small: String = "x") throws -> DesiredObject {
        try DesiredObject(
            resource: ConfigMap.resource, namespace: "team", name: "obs-collector",
            body: ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "obs-collector", "namespace": "team"], "data": ["config.yaml": .string(value), "small": .string(small)]]
        )
    }

    /// The live object as the API server returns it (with the hash annotation the apply
    /// wrote), passed through the store's transform.
    func cached(_ desired: DesiredObject) throws -> Unstructured {
        var body = desired.body
        body["metadata"]?["resourceVersion"] = "7"
        let store = Store<Unstructured>(transform: CachedForm.transform(for: ConfigMap.resource))
        store.upsert(try Unstructured(object: body))
        return try #require(store.get("team/obs-collector"))
    }

    @Test func largeValuesAreKeptAsDigestsAndSmallOnesWhole() throws {
        let live = try cached(try configMap(large))
        let data = try #require(live.object["data"])
        #expect(data["config.yaml"]?.stringValue?.hasPrefix("vigil-cached-sha256:") == true)
        #expect(data["config.yaml"]?.stringValue?.utf8.count ?? .max < 100)
        #expect(data["small"]?.stringValue == "x")
        #expect(live.metadata.annotations?[Annotations.desiredHash] != nil)
        // Twice is the same as once.
        #expect(CachedForm.digested(live.object) == live.object)
    }

    @Test func anUnchangedObjectIsNotAppliedAgainAndAChangedLargeValueIs() throws {
        let desired = try configMap(large)
        let live = try cached(desired)
        #expect(!Applier.needsApply(desired, live: live))
        // The same hash annotation but a different large value (an edit by hand that kept
        // the annotation): the digest differs, so it is applied.
        var edited = live.object
        edited["data"]?["config.yaml"] = .string(CachedForm.digested(["data": ["v": .string(large + "# edited\n")]])["data"]?["v"]?.stringValue ?? "")
        var tampered = live
        tampered.object = edited
        #expect(Applier.needsApply(desired, live: tampered))
        // A desired change to the large value changes the hash.
        #expect(Applier.needsApply(try configMap(large + "extra: 1\n"), live: live))
        // A small value edited by hand is seen as before.
        tampered = live
        tampered.object["data"]?["small"] = "y"
        #expect(Applier.needsApply(desired, live: tampered))
    }

    /// The Alertmanager Secret, as Render makes it for the production example with receiver
    /// secrets, passed through the Secret cache: none of its values stays, in any encoding,
    /// and the cached form still tells an unchanged Secret from an edited one.
    @Test func theAlertmanagerSecretIsCachedWithoutTheReceiversSecrets() throws {
        let text = try String(contentsOf: HealthCheckTests.repoRoot.appendingPathComponent("examples/production.yaml"), encoding: .utf8)
        let stack = try #require(try StackFile.parse(text).first)
        let secrets = AlertReceiverSecrets(
            slackWebhookURL: "https://hooks.slack.com/services/T000/B000/sentinel-slack-5f1c", pagerDutyRoutingKey: "sentinel-pagerduty-9a2e",
            smtpPassword: "sentinel-smtp-77d0"
        )
        let rendered = try DesiredState.render(StackContext(stack), inputs: RenderInputs(alertSecrets: secrets))
        let desired = try #require(rendered.objects.first { $0.resource == Secret.resource && $0.name == Naming.name("fba-bench", "alertmanager") })
        let store = Store<Unstructured>(transform: CachedForm.transform(for: Secret.resource))
        var body = desired.body
        body["metadata"]?["resourceVersion"] = "7"
        let fresh = try Unstructured(object: body)
        store.upsert(fresh)
        let live = try #require(store.get(fresh.metadata.key))
        let cached = String(decoding: try JSONCoding.encode(live.object), as: UTF8.self)
        let values = try #require(desired.body["data"]?.objectValue)
        #expect(!values.isEmpty)
        for (key, value) in values {
            let b64 = try #require(value.stringValue)
            #expect(!cached.contains(b64), "\(key) is cached whole")
            #expect(live.object["data"]?[key]?.stringValue?.hasPrefix("vigil-cached-sha256:") == true)
        }
        // The rendered Secret does carry them (the premise), the cached one does not.
        let yaml = String(decoding: Data(base64Encoded: values[AlertmanagerConfig.key]?.stringValue ?? "") ?? Data(), as: UTF8.self)
        for s in [secrets.slackWebhookURL!, secrets.pagerDutyRoutingKey!, secrets.smtpPassword!] {
            #expect(yaml.contains(s))
            #expect(!cached.contains(s))
        }
        // Twice is the same as once.
        #expect(CachedForm.digested(live.object, .all) == live.object)
        #expect(!Applier.needsApply(desired, live: live))
        // A value edited by hand under the same hash annotation is applied again.
        var tampered = live
        tampered.object["data"]?[AlertmanagerConfig.key] = .string(CachedForm.digested(["data": ["v": .string(Data("route: {}\n".utf8).base64EncodedString())]], .all)["data"]?["v"]?.stringValue ?? "")
        #expect(Applier.needsApply(desired, live: tampered))
        // Other receiver secrets change the Secret.
        let other = try DesiredState.render(StackContext(stack), inputs: RenderInputs(alertSecrets: AlertReceiverSecrets(slackWebhookURL: "https://hooks.slack.com/services/T000/B000/other")))
        #expect(Applier.needsApply(try #require(other.objects.first { $0.key == desired.key }), live: live))
    }

    /// Other kinds keep their values whole; every kind drops `creationTimestamp`, and
    /// nothing else.
    @Test func otherKindsAreKeptWholeButForTheirCreationTime() throws {
        let large = self.large
        for resource in [Secret.resource, Kinds.daemonSet, ConfigMap.resource] {
            for component in [nil, "certificates", AlertmanagerConfig.component] {
                let transform = CachedForm.transform(for: resource)
                var labels: JSONObject = [Labels.managedBy: "vigil"]
                if let component { labels[Labels.component] = .string(component) }
                let meta: JSONValue = [
                    "name": "a", "namespace": "team", "uid": "u", "resourceVersion": "3", "creationTimestamp": "2026-12-03T02:20:31Z", "labels": .object(labels),
                ]
                let object = try Unstructured(object: ["apiVersion": "v1", "kind": "X", "metadata": meta, "data": ["k": "dg==", "big": .string(large)]])
                let kept = transform(object)
                #expect(kept.metadata.creationTimestamp == nil)
                var expected = object
                expected.metadata.creationTimestamp = nil
                if resource == ConfigMap.resource {
                    #expect(kept.object["data"]?["big"]?.stringValue?.hasPrefix("vigil-cached-sha256:") == true)
                    #expect(kept.object["data"]?["k"] == "dg==")
                } else if resource == Secret.resource && component == AlertmanagerConfig.component {
                    // The Alertmanager Secret: every value, small ones too.
                    #expect(kept.object["data"]?["big"]?.stringValue?.hasPrefix("vigil-cached-sha256:") == true)
                    #expect(kept.object["data"]?["k"]?.stringValue?.hasPrefix("vigil-cached-sha256:") == true)
                } else {
                    #expect(kept == expected)
                }
            }
        }
    }

    /// Decoded metadata takes the strings every owned object repeats from one pool, and
    /// each of Render's label and annotation keys is in it.
    @Test func metadataSharesTheRepeatedStrings() throws {
        for key in [
            Labels.managedBy, Labels.stack, Labels.name, Labels.component, Labels.partOf, Labels.environment, Labels.instance, Annotations.desiredHash,
            Annotations.configHash, Annotations.htpasswdHash, Annotations.caPhase, Annotations.issuerSerial, Annotations.trustBundleHash,
            Annotations.credentialGeneration, Annotations.credentialPhase, Annotations.credentialPhaseSince, Annotations.credentialRotatedAt,
            Annotations.publishedClients, Annotations.rotationRequestHandled, Annotations.stackNamespaceLabel, Annotations.stackUIDLabel,
            Annotations.restartOnRotation, Annotations.restartedAt, Annotations.scrapeLabel, Annotations.certificateRotatedFor,
            Annotations.rotateCertificate, Annotations.rotateCredentials, Annotations.legacyRotateCredentials, Annotations.clientSecretsFinalizer,
            ObservabilityStack.resource.apiVersion, ObservabilityStack.resource.kind, GrafanaRender.dashboardLabel, GrafanaRender.datasourceLabel,
        ] where key.utf8.count > 15 {
            #expect(SharedStrings.pool.contains(key), "\(key) is not in SharedStrings.pool")
        }
        // Two objects decoded apart share the pool's storage for a key; values that are not
        // in the pool are kept as they came.
        func decoded(_ name: String) throws -> ObjectMeta {
            try ObjectMeta(json: JSONValue.parse(Array(#"{"name":"\#(name)","labels":{"app.kubernetes.io/component":"certificates","app.kubernetes.io/name":"opentelemetry-collector","other.example.com/some-long-key":"some-long-value-of-a-label"}}"#.utf8)))
        }
        let a = try decoded("a"), b = try decoded("b")
        func storage(_ m: ObjectMeta, _ key: String) -> UnsafeRawPointer? {
            guard let k = m.labels?.keys.first(where: { $0 == key }) else { return nil }
            var k2 = k
            return k2.withUTF8 { UnsafeRawPointer($0.baseAddress) }
        }
        #expect(storage(a, Labels.component) != nil)
        #expect(storage(a, Labels.component) == storage(b, Labels.component))
        #expect(storage(a, "other.example.com/some-long-key") != storage(b, "other.example.com/some-long-key"))
        // A look-alike keeps its own bytes (a Kelvin sign for the K; a decomposed é).
        for s in ["ObservabilityStac\u{212A}", "observability.vigil.dev/stack-uid\u{0065}\u{0301}"] {
            #expect(Array(SharedStrings.shared(s).utf8) == Array(s.utf8))
        }
        #expect(a.labels == ["app.kubernetes.io/component": "certificates", "app.kubernetes.io/name": "opentelemetry-collector", "other.example.com/some-long-key": "some-long-value-of-a-label"])
    }

    /// The owned caches' index finds the same objects a scan would, through updates,
    /// removals and relists.
    @Test func theIndexFindsWhatAScanFinds() throws {
        func object(_ name: String, ns: String, owner: String?, labels: [String: String] = [:], rv: Int) throws -> Unstructured {
            var meta: JSONObject = ["name": .string(name), "namespace": .string(ns), "resourceVersion": .string("\(rv)")]
            if let owner { meta["ownerReferences"] = [["apiVersion": "v1", "kind": "ObservabilityStack", "name": "s", "uid": .string(owner), "controller": true]] }
            if !labels.isEmpty { meta["labels"] = .object(labels.jsonObject) }
            return try Unstructured(object: ["apiVersion": "v1", "kind": "Secret", "metadata": .object(meta)])
        }
        let store = Store<Unstructured>(indexKeys: OwnedIndex.keys)
        let client = [Labels.managedBy: Labels.managerValue, Annotations.stackNamespaceLabel: "team", Labels.stack: "obs"]
        store.upsert(try object("a", ns: "team", owner: "u1", rv: 1))
        store.upsert(try object("b", ns: "team", owner: "u2", rv: 2))
        store.upsert(try object("team.obs-otlp-client", ns: "app", owner: nil, labels: client, rv: 3))
        func owned(_ uid: String) -> Set<String> { Set(store.select(indexKey: OwnedIndex.owner(uid)) { $0.metadata.controllerOwner?.uid == uid }.map(\.metadata.key)) }
        #expect(owned("u1") == ["team/a"])
        #expect(Set(store.select(indexKey: OwnedIndex.labelled(namespace: "team", name: "obs")) { _ in true }.map(\.metadata.key)) == ["app/team.obs-otlp-client"])
        // A new owner moves the object from one key to the other.
        store.upsert(try object("a", ns: "team", owner: "u2", rv: 4))
        #expect(owned("u1").isEmpty)
        #expect(owned("u2") == ["team/a", "team/b"])
        store.remove("team/b")
        #expect(owned("u2") == ["team/a"])
        _ = store.replace(with: [try object("c", ns: "team", owner: "u1", rv: 5)])
        #expect(owned("u1") == ["team/c"])
        #expect(owned("u2").isEmpty)
        #expect(store.select(indexKey: OwnedIndex.labelled(namespace: "team", name: "obs")) { _ in true }.isEmpty)
        // A store without an index scans.
        let plain = Store<Unstructured>()
        plain.upsert(try object("a", ns: "team", owner: "u1", rv: 1))
        #expect(plain.select(indexKey: "anything") { $0.metadata.controllerOwner?.uid == "u1" }.count == 1)
    }
}
