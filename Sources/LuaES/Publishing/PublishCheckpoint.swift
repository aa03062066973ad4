import LuaESCore
import LuaESScripting
import LuaESStore

/// Where an `EventPublisher` keeps the position of the last event it delivered.
public protocol PublishCheckpoint: Sendable {
    /// The last delivered position (0 when nothing was).
    func load() throws -> Int64
    /// Records `position` as delivered.
    func save(_ position: Int64) throws
}
