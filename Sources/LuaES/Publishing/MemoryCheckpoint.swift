import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// A checkpoint kept in memory (with `--memory` stores, and tests).
public final class MemoryCheckpoint: PublishCheckpoint, @unchecked Sendable {
    // @unchecked: `position` is only touched while `lock` is held.
    private let lock = NSLock()
    private var position: Int64

    public init(position: Int64 = 0) { self.position = position }

    public func load() throws -> Int64 { lock.withLock { position } }
    public func save(_ position: Int64) throws { lock.withLock { self.position = position } }
}
