import Foundation

/// Test seams of a `PostgresEventStore` (internal: reached with `@testable import`).
final class PostgresStoreHooks: @unchecked Sendable {
    // @unchecked: `pause` is only read and written while `lock` is held.
    private let lock = NSLock()
    private var pause: (@Sendable () -> Duration?)?

    /// How long an append waits after taking its positions and before COMMIT: the window
    /// in which appends commit out of position order, which the gap test widens.
    var pauseBeforeCommit: (@Sendable () -> Duration?)? {
        get { lock.withLock { pause } }
        set { lock.withLock { pause = newValue } }
    }
}
