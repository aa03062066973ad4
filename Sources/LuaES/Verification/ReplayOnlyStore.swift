/// A read-only view of a store without snapshots, so engines over it replay every
/// stream from its first event. Writes fail: verification never changes a store.
final class ReplayOnlyStore: EventStore {
    let base: EventStore

    init(_ base: EventStore) { self.base = base }

    func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        throw StoreError.invalid("the store is read-only during verification")
    }

    func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        throw StoreError.invalid("the store is read-only during verification")
    }

    func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent] {
        try base.events(of: stream, after: after, upTo: upTo, limit: limit)
    }

    func readReplayPage(_ page: inout ReplayPage, of stream: StreamID, after: Int64, upTo: Int64?, limit: Int) throws {
        try base.readReplayPage(&page, of: stream, after: after, upTo: upTo, limit: limit)
    }

    func events(after position: Int64, limit: Int) throws -> [RecordedEvent] {
        try base.events(after: position, limit: limit)
    }

    func events(forCommand commandID: String) throws -> [RecordedEvent] { try base.events(forCommand: commandID) }

    func version(of stream: StreamID) throws -> Int64 { try base.version(of: stream) }

    func streams(of aggregate: String?) throws -> [StreamID] { try base.streams(of: aggregate) }

    func snapshot(of stream: StreamID) throws -> Snapshot? { nil }

    func saveSnapshot(_ snapshot: Snapshot) throws {}

    /// The underlying store belongs to the caller; closing the view leaves it open.
    func close() throws {}
}
