import Foundation

/// Test seams of a `PostgresEventStore` (internal: reached with `@testable import`).
final class PostgresStoreHooks: @unchecked Sendable {
    // @unchecked: `pause` and `statements` are only read and written while `lock` is held.
    private let lock = NSLock()
    private var pause: (@Sendable () -> Duration?)?
    private var statements = 0

    /// How long an append waits after leaving the ordering section and before COMMIT (the
    /// append procedure's `p_pause`, a `pg_sleep` in the same CALL): the window in which
    /// appends commit out of position order, which the gap test widens.
    var pauseBeforeCommit: (@Sendable () -> Duration?)? {
        get { lock.withLock { pause } }
        set { lock.withLock { pause = newValue } }
    }

    /// How many statements appends have sent (their round trips).
    var appendStatements: Int { lock.withLock { statements } }

    func countAppendStatement() { lock.withLock { statements += 1 } }
}
