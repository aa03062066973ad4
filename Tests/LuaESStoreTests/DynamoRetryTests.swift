@testable import LuaESDynamo
import Testing

/// Which DynamoDB failures are sent again, and how long the pauses are.
@Suite("DynamoDB retries")
struct DynamoRetryTests {
    @Test(arguments: ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                      "InternalServerError", "TransactionConflictException"])
    func throttlingAndServerTroubleAreRetried(_ code: String) {
        #expect(DynamoFailure.aws(code: code, message: "m", status: 400, reasons: []).isRetryable)
    }

    @Test func fiveHundredsAndLostConnectionsAreRetried() {
        #expect(DynamoFailure.aws(code: "Whatever", message: "m", status: 503, reasons: []).isRetryable)
        #expect(DynamoFailure.transport("connection refused").isRetryable)
    }

    @Test(arguments: ["ValidationException", "ConditionalCheckFailedException", "TransactionCanceledException",
                      "ResourceNotFoundException", "AccessDeniedException", "UnrecognizedClientException"])
    func otherErrorsReachTheCallerWithCodeAndMessage(_ code: String) {
        let failure = DynamoFailure.aws(code: code, message: "the message", status: 400, reasons: ["None", "ConditionalCheckFailed"])
        #expect(!failure.isRetryable)
        #expect(failure.description.contains(code) && failure.description.contains("the message"))
        #expect(failure.description.contains("ConditionalCheckFailed"))
        #expect(!DynamoFailure.closed.isRetryable)
    }

    @Test func backoffIsJitteredAndCapped() {
        let pauses = (0..<200).map { _ in DynamoClient.backoff(attempt: 3) }
        #expect(pauses.allSatisfy { $0 >= 0.005 && $0 <= 0.16 })
        #expect(Set(pauses).count > 100)
        #expect((1...30).allSatisfy { DynamoClient.backoff(attempt: $0) <= 2.0 })
    }
}
