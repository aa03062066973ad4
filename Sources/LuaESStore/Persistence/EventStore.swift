import LuaESCore

/// Where events live. Implementations: `InMemoryEventStore`, `SQLiteEventStore`,
/// `PostgresEventStore`; wrappers: `MiddlewareEventStore`, `ReplayOnlyStore`.
///
/// Every implementation passes the store contract suite (`StoreContract` in the tests):
/// appends are atomic, a taken version is a conflict and never a partial write,
/// positions strictly increase and a feed reader never skips a committed event.
/// Calls are synchronous and may come from several threads.
public protocol EventStore: SnapshotStore {
    /// Appends `events` to `stream` as versions `expectedVersion + 1 ...`, all or none.
    /// - Throws: `StoreError.conflict` when the stream's version is not `expectedVersion`.
    @discardableResult
    func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent]

    /// Appends to several streams in one transaction (group commit). Each batch
    /// succeeds or fails on its own; the result has one entry per batch, in order.
    func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>]

    /// Events of `stream` with version > `after` (and <= `upTo` when given), in version order.
    func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent]

    /// Fills `page` with up to `limit` events of `stream` after version `after` (and up to
    /// `upTo`), as raw bytes for replay. A default built on `events(of:)` exists.
    func readReplayPage(_ page: inout ReplayPage, of stream: StreamID, after: Int64, upTo: Int64?, limit: Int) throws

    /// The global feed: events with position > `after`, in position order, at most `limit`.
    func events(after position: Int64, limit: Int) throws -> [RecordedEvent]

    /// The events appended with `commandID` (an idempotency key), in position order.
    func events(forCommand commandID: String) throws -> [RecordedEvent]

    /// The stream's current version (0 when it has no events).
    func version(of stream: StreamID) throws -> Int64

    /// Keys of the streams of `aggregate` (all aggregates when nil), ordered.
    func streams(of aggregate: String?) throws -> [StreamID]

    // snapshot(of:), saveSnapshot(_:) and close() come from `SnapshotStore`: an event store
    // keeps its own snapshots unless a separate snapshot store is given.

    // Capabilities beyond events. Every store says what it has, and a store that wraps
    // another forwards the wrapped one's explicitly: nothing finds them by casting.

    /// Notifications of commits by any process or node (PostgreSQL's LISTEN/NOTIFY); nil when
    /// the store has none and readers poll.
    var commitNotifier: CommitNotifying? { get }

    /// The projection views kept beside the events; nil when the store keeps none.
    var projections: ProjectionStore? { get }
}

/// One stream's share of a group commit.
public struct AppendBatch: Sendable {
    public var stream: StreamID
    public var expectedVersion: Int64
    public var events: [NewEvent]

    public init(stream: StreamID, expectedVersion: Int64, events: [NewEvent]) {
        self.stream = stream
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

extension EventStore {
    public func events(of stream: StreamID, after: Int64 = 0) throws -> [RecordedEvent] {
        try events(of: stream, after: after, upTo: nil, limit: nil)
    }
}
