import Foundation
import KubeClient
import KubeModel
import Testing

@Suite struct ErrorAndRetryTests {
    @Test(arguments: [
        (0, "Transport", true), (429, "TooManyRequests", true), (500, "InternalError", true), (503, "ServiceUnavailable", true),
        (400, "BadRequest", false), (404, "NotFound", false), (409, "Conflict", false), (422, "Invalid", false),
    ])
    func onlyThrottlingServerAndTransportErrorsAreRetried(_ code: Int, _ reason: String, _ retryable: Bool) {
        #expect(KubeAPIError(code: code, reason: reason, message: "").isRetryable == retryable)
    }

    @Test func goneIsRecognisedByCodeOrReason() {
        #expect(KubeAPIError(code: 410, reason: "Gone", message: "").isGone)
        #expect(KubeAPIError(code: 500, reason: "Expired", message: "").isGone)
        #expect(!KubeAPIError(code: 404, reason: "NotFound", message: "").isGone)
    }

    @Test func backoffGrowsExponentiallyWithinBoundsAndHonoursRetryAfter() {
        let p = RetryPolicy(maxAttempts: 10, baseDelay: 0.1, maxDelay: 2)
        #expect(p.delay(afterAttempt: 1, retryAfter: nil, random: 0) == 0.05)
        #expect(p.delay(afterAttempt: 1, retryAfter: nil, random: 0.999) < 0.1)
        #expect(p.delay(afterAttempt: 3, retryAfter: nil, random: 0) == 0.2)
        #expect(p.delay(afterAttempt: 20, retryAfter: nil, random: 0.999) <= 2)
        #expect(p.delay(afterAttempt: 1, retryAfter: 3, random: 0.5) == 3)
    }
}
