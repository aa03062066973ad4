import Foundation

/// A closed state shared between threads.
final class ClosedFlag: @unchecked Sendable {
    // @unchecked: `closed` is only read and written while `lock` is held.
    private let lock = NSLock()
    private var closed = false

    var isSet: Bool { lock.withLock { closed } }

    /// Sets the flag; returns false when it was already set.
    func close() -> Bool {
        lock.withLock {
            defer { closed = true }
            return !closed
        }
    }
}
