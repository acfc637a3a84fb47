import Foundation
import KubeModel
import Testing

@Suite struct ResourcePathTests {
    @Test func pathsForCoreAndGroupedKinds() {
        #expect(ConfigMap.resource.path(namespace: "ns") == "/api/v1/namespaces/ns/configmaps")
        #expect(ConfigMap.resource.path(namespace: nil) == "/api/v1/configmaps")
        #expect(
            ObservabilityStack.resource.path(namespace: "a", name: "b", subresource: "status")
                == "/apis/observability.vigil.dev/v1alpha1/namespaces/a/observabilitystacks/b/status")
        #expect(Namespace.resource.path(namespace: "ignored", name: "x") == "/api/v1/namespaces/x")
    }

    @Test func secretDescriptionNeverShowsData() {
        let s = Secret(metadata: ObjectMeta(name: "s", namespace: "n"), data: ["password": "c2VjcmV0"])
        #expect(!"\(s)".contains("c2VjcmV0"))
        #expect("\(s)".contains("password"))
    }
}
