import Foundation

/// The result of the blocking bridge's task. @unchecked: `result` is only read and written
/// while `lock` is held (the waiter may give up and read it while the task still runs).
final class Outcome<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Result<T, any Error>?

    var result: Result<T, any Error>? {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
}
