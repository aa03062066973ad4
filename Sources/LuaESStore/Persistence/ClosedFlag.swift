import Foundation

/// A store's closed state, shared between threads (the external stores' `close()`).
package final class ClosedFlag: @unchecked Sendable {
    // @unchecked: `closed` is only read and written while `lock` is held.
    private let lock = NSLock()
    private var closed = false

    package init() {}

    package var isSet: Bool { lock.withLock { closed } }

    /// Sets the flag; returns false when it was already set.
    package func close() -> Bool {
        lock.withLock {
            defer { closed = true }
            return !closed
        }
    }
}
