import KubeModel
import Render
import Testing

/// The AdmissionReview the webhook answers: the reconciler's validation, every field at
/// once, warnings for advice, and nothing judged that is not stored.
@Suite struct AdmissionTests {
    static func review(operation: String = "CREATE", _ spec: JSONValue, name: String = "app", subResource: String? = nil) -> JSONValue {
        var request: JSONObject = [
            "uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "operation": .string(operation), "namespace": "team", "name": .string(name),
            "object": ["apiVersion": "observability.vigil.dev/v1alpha1", "kind": "ObservabilityStack", "metadata": ["name": .string(name), "namespace": "team"], "spec": spec],
        ]
        if let subResource { request["subResource"] = .string(subResource) }
        return ["apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": .object(request)]
    }

    @Test func aValidStackIsAllowedWithItsAdviceAsWarnings() {
        let spec: JSONValue = [
            "environment": "staging",
            "exporters": ["tempo": ["endpoint": "tempo.example.com:4317"]],
            "ingest": ["basicAuth": ["clients": [["name": "api", "namespace": "apps"]]]],
        ]
        let r = StackAdmission.review(Self.review(spec))
        #expect(r["apiVersion"] == "admission.k8s.io/v1" && r["kind"] == "AdmissionReview")
        #expect(r["response"]?["uid"] == "705ab4f5-6393-11e8-b7cc-42010a800002")
        #expect(r["response"]?["allowed"] == true)
        let warnings = r["response"]?["warnings"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(warnings.contains { $0.contains("tempo.example.com") && $0.contains("egressTo") })
        #expect(warnings.contains { $0.contains("apps") && $0.contains("accept-stacks=team/app") })
        #expect(warnings.allSatisfy { $0.count <= 250 })
    }

    @Test func anInvalidStackIsDeniedNamingEveryField() {
        let spec: JSONValue = [
            "environment": "production",
            "collector": ["image": "attacker/collector:latest", "gateway": ["replicas": 2, "minAvailable": 2], "fileLogs": ["include": ["/var/log/pods/*/*/*.log"]]],
            "exporters": ["loki": ["endpoint": "https://loki/${env:AWS_SECRET_ACCESS_KEY}"]],
        ]
        let r = StackAdmission.review(Self.review(spec))
        #expect(r["response"]?["allowed"] == false)
        #expect(r["response"]?["status"]?["code"] == 422)
        let message = r["response"]?["status"]?["message"]?.stringValue ?? ""
        for field in ["spec.collector.image", "spec.collector.gateway.minAvailable", "spec.collector.fileLogs.include[0]", "spec.exporters.loki.endpoint"] {
            #expect(message.contains(field), "\(field) missing from \(message)")
        }
        #expect(message.contains("(4 problems)"))
    }

    @Test func onlyWhatIsStoredIsJudged() {
        let bad: JSONValue = ["environment": "production", "sampling": ["percentage": 500]]
        #expect(StackAdmission.review(Self.review(operation: "DELETE", bad))["response"]?["allowed"] == true)
        #expect(StackAdmission.review(Self.review(operation: "UPDATE", bad, subResource: "status"))["response"]?["allowed"] == true)
        #expect(StackAdmission.review(Self.review(operation: "UPDATE", bad))["response"]?["allowed"] == false)
    }

    @Test func somethingThatIsNoStackOrNoReviewIsDeniedPlainly() {
        let r = StackAdmission.review(Self.review(["environment": "nowhere"]))
        #expect(r["response"]?["allowed"] == false)
        #expect(r["response"]?["status"]?["message"]?.stringValue?.contains("not a valid ObservabilityStack") == true)
        #expect(StackAdmission.review(["kind": "Pod"])["response"]?["allowed"] == false)
    }
}
