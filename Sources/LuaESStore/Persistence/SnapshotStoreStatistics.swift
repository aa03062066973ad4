import Foundation

/// Counters of a separate snapshot store's troubles, read by `/metrics`
/// (`esrun_snapshot_store_failures_total`, `esrun_snapshot_store_skipped_total`).
public final class SnapshotStoreStatistics: @unchecked Sendable {
    // @unchecked: every stored property is read and written only while `lock` is held.
    private let lock = NSLock()
    private var failed: Int64 = 0
    private var skipped: Int64 = 0

    public init() {}

    func addFailure() { lock.withLock { failed += 1 } }
    func addSkipped() { lock.withLock { skipped += 1 } }

    /// Reads and saves that reached the snapshot store and failed.
    public var failures: Int64 { lock.withLock { failed } }
    /// Reads and saves not tried because the store had just failed (the back-off).
    public var skips: Int64 { lock.withLock { skipped } }
}
