/// The result of the blocking bridge's task. @unchecked: written once by the task before
/// it signals the semaphore, read once by the waiting thread after `wait()` returns; the
/// semaphore orders the two.
final class Outcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
