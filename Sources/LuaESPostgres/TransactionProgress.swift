/// Whether a call's transaction has begun (BEGIN went through, or the one statement of an
/// autocommit write was sent): after that a lost connection leaves the outcome of a write
/// unknown, so it is not retried.
final class TransactionProgress: @unchecked Sendable {
    // @unchecked: set by the task that runs the call's body, read by its parent task only
    // after that child task has finished (awaiting a child's result orders the two).
    var hasBegun = false
}
