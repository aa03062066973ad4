import Logging

/// Where an esrun command keeps its snapshots (`--snapshots URL`): in the event store itself
/// (the default), or in a snapshot store of their own from another module (Redis in
/// LuaESRedis: `SnapshotLocation.redis(url:)`).
public enum SnapshotLocation: Sendable {
    case eventStore
    /// `name` says where it is, without secrets; `open` makes the store (it need not connect yet).
    case external(name: String, open: @Sendable () throws -> any SnapshotStore)

    /// Where the snapshots are, for logs and messages.
    public var name: String {
        switch self {
        case .eventStore: "the event store"
        case .external(let name, _): name
        }
    }

    /// `events` with its snapshots kept here: `events` itself for `.eventStore`, else a
    /// `SeparateSnapshotsEventStore` over the opened snapshot store, which `degrades` (see there).
    /// - Throws: what opening the snapshot store throws (a malformed CA file, say); `events`
    ///   is left open.
    public func route(_ events: any EventStore, statistics: SnapshotStoreStatistics = SnapshotStoreStatistics(),
                      logger: Logger = Logger(label: "esrun.snapshots"), degrades: Bool = true) throws -> any EventStore {
        switch self {
        case .eventStore:
            return events
        case .external(let name, let open):
            return SeparateSnapshotsEventStore(events: events, snapshots: try open(), name: name,
                                               statistics: statistics, logger: logger, degrades: degrades)
        }
    }
}
