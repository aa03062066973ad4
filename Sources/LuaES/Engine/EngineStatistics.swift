import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// Counters several engines share (a server's workers), read by `/metrics`.
public final class EngineStatistics: @unchecked Sendable {
    // @unchecked: every stored property is read and written only while `lock` is held.
    private let lock = NSLock()
    private var replayed: Int64 = 0
    private var snapshotsWritten: Int64 = 0

    public init() {}

    func addReplayed(_ n: Int) { lock.withLock { replayed += Int64(n) } }
    func addSnapshot() { lock.withLock { snapshotsWritten += 1 } }

    /// Events replayed while hydrating states (cache misses, cold loads).
    public var replayedEvents: Int64 { lock.withLock { replayed } }
    public var snapshots: Int64 { lock.withLock { snapshotsWritten } }
}
