import LuaESCore

/// A read-only view of a store without snapshots, so engines over it replay every
/// stream from its first event. Writes fail: verification never changes a store.
public final class ReplayOnlyStore: EventStore {
    public let base: EventStore

    public init(_ base: EventStore) { self.base = base }

    public func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        throw StoreError.invalid("the store is read-only during verification")
    }

    public func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        throw StoreError.invalid("the store is read-only during verification")
    }

    public func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent] {
        try base.events(of: stream, after: after, upTo: upTo, limit: limit)
    }

    public func readReplayPage(_ page: inout ReplayPage, of stream: StreamID, after: Int64, upTo: Int64?, limit: Int) throws {
        try base.readReplayPage(&page, of: stream, after: after, upTo: upTo, limit: limit)
    }

    public func events(after position: Int64, limit: Int) throws -> [RecordedEvent] {
        try base.events(after: position, limit: limit)
    }

    public func events(forCommand commandID: String) throws -> [RecordedEvent] { try base.events(forCommand: commandID) }

    public func version(of stream: StreamID) throws -> Int64 { try base.version(of: stream) }

    public func streams(of aggregate: String?) throws -> [StreamID] { try base.streams(of: aggregate) }

    public func snapshot(of stream: StreamID) throws -> Snapshot? { nil }

    public func saveSnapshot(_ snapshot: Snapshot) throws {}

    /// The underlying store belongs to the caller; closing the view leaves it open.
    public func close() throws {}

    public var commitNotifier: CommitNotifying? { base.commitNotifier }
    public var projections: ProjectionStore? { base.projections }
}
