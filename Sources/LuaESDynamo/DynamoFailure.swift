/// Why one DynamoDB call failed, before the store says what it was doing.
enum DynamoFailure: Error, Sendable {
    /// DynamoDB answered with an error: its code (`ConditionalCheckFailedException`...), message,
    /// HTTP status, and for a cancelled transaction the reason code of each item, in order.
    case aws(code: String, message: String, status: Int, reasons: [String])
    /// No answer: the endpoint is unreachable, the connection broke, the request timed out.
    case transport(String)
    case closed

    var code: String? {
        if case .aws(let code, _, _, _) = self { return code }
        return nil
    }

    /// Throttling and server-side trouble: the same request may be sent again after a pause.
    var isRetryable: Bool {
        switch self {
        case .aws(let code, _, let status, _):
            return status >= 500 || Self.retryableCodes.contains(code)
        case .transport: return true
        case .closed: return false
        }
    }

    static let retryableCodes: Set<String> = [
        "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
        "InternalServerError", "ServiceUnavailable", "TransactionConflictException",
        "TransactionInProgressException",
    ]

    var description: String {
        switch self {
        case .aws(let code, let message, let status, let reasons):
            let why = reasons.isEmpty ? "" : " (reasons: \(reasons.joined(separator: ", ")))"
            return "\(code): \(message)\(why) [HTTP \(status)]"
        case .transport(let message): return message
        case .closed: return "the store is closed"
        }
    }
}
