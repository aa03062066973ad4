import LuaESCore
import LuaESScripting
import LuaESStore

/// Settings of an `Engine`.
public struct EngineOptions: Sendable {
    /// Limits for scripts, per phase.
    public var limits = ScriptLimits()
    /// Snapshot interval for aggregates that do not set `snapshot_every` (0 disables).
    public var snapshotEvery = 100
    /// Hydrated states kept in memory, at most.
    public var cacheCapacity = 10_000
    /// Memory the Lua state may hold before cached states are evicted (oldest first),
    /// checked every few hundred commands after a garbage collection.
    public var cacheMemoryBytes = 256 << 20
    /// Tries of a command that meets a concurrency conflict (without an expected version).
    public var maxAttempts = 5
    /// Most events one command may emit.
    public var maxEventsPerCommand = 100_000
    /// Events read and replayed per batch while hydrating.
    public var replayPageSize = 10_000
    /// Whether `execute` returns the new state as JSON (costs an encode per command).
    public var returnState = true
    /// Where to count replayed events and snapshots, when someone reads them.
    public var statistics: EngineStatistics?

    public init() {}
}

/// What a successful command did.
public struct CommandResult: Sendable, Equatable {
    /// The committed events (empty when the handler decided nothing happens).
    public var events: [RecordedEvent]
    /// The stream's version after the command.
    public var version: Int64
    /// JSON text of the new state, when `EngineOptions.returnState` is set.
    public var state: String?
}

/// A consistent read of one aggregate.
public struct StateResult: Sendable, Equatable {
    public var version: Int64
    /// JSON text of the state.
    public var state: String
}
