import Foundation

/// An `EventStore` held in memory: for tests, `--memory` and exploring.
/// One lock guards everything; appends are atomic because they happen under it.
public final class InMemoryEventStore: EventStore, @unchecked Sendable {
    // @unchecked: every stored property is read and written only while `lock` is held.
    let lock = NSLock()
    var all: [RecordedEvent] = []
    private var streamIndexes: [StreamID: [Int]] = [:]
    private var commandIndexes: [String: [Int]] = [:]
    private var snapshots: [StreamID: Snapshot] = [:]
    private var isClosed = false
    /// Views and checkpoints of projections (InMemoryEventStore+projections.swift).
    var projectionTables = ProjectionTables()

    public init() {}

    @discardableResult
    public func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        try lock.withLock {
            try checkOpen()
            return try appendLocked(events, to: stream, expectedVersion: expectedVersion)
        }
    }

    public func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        try lock.withLock {
            try checkOpen()
            return batches.map { batch in
                do {
                    return .success(try appendLocked(batch.events, to: batch.stream, expectedVersion: batch.expectedVersion))
                } catch let error as StoreError {
                    return .failure(error)
                } catch {
                    return .failure(.io("\(error)"))
                }
            }
        }
    }

    private func appendLocked(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        guard !events.isEmpty else { throw StoreError.invalid("an append needs at least one event") }
        let actual = Int64(streamIndexes[stream]?.count ?? 0)
        guard actual == expectedVersion else {
            throw StoreError.conflict(stream, expected: expectedVersion, actual: actual)
        }
        if let taken = events.lazy.compactMap(\.commandID).first(where: { commandIndexes[$0] != nil }) {
            throw StoreError.duplicateCommand(taken)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        var recorded: [RecordedEvent] = []
        recorded.reserveCapacity(events.count)
        for (offset, event) in events.enumerated() {
            let record = RecordedEvent(
                position: Int64(all.count + 1), stream: stream, version: expectedVersion + Int64(offset) + 1,
                type: event.type, schema: event.schema, data: event.data, meta: event.meta, recordedAt: now)
            streamIndexes[stream, default: []].append(all.count)
            if let id = event.commandID { commandIndexes[id, default: []].append(all.count) }
            all.append(record)
            recorded.append(record)
        }
        return recorded
    }

    public func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent] {
        try lock.withLock {
            try checkOpen()
            guard let indexes = streamIndexes[stream] else { return [] }
            // versions are 1...count, so version v sits at index v - 1
            let start = Int(clamping: max(after, 0))
            var end = Int64(indexes.count)
            if let upTo { end = min(end, upTo) }
            guard Int64(start) < end else { return [] }
            if let limit, Int64(limit) < end - Int64(start) { end = Int64(start) + Int64(max(limit, 0)) }
            guard Int64(start) < end else { return [] }
            return indexes[start..<Int(end)].map { all[$0] }
        }
    }

    public func events(after position: Int64, limit: Int) throws -> [RecordedEvent] {
        try lock.withLock {
            try checkOpen()
            let start = Int(clamping: max(position, 0))
            guard start < all.count, limit > 0 else { return [] }
            return Array(all[start..<(start + min(limit, all.count - start))])
        }
    }

    public func events(forCommand commandID: String) throws -> [RecordedEvent] {
        try lock.withLock {
            try checkOpen()
            return (commandIndexes[commandID] ?? []).map { all[$0] }
        }
    }

    public func version(of stream: StreamID) throws -> Int64 {
        try lock.withLock {
            try checkOpen()
            return Int64(streamIndexes[stream]?.count ?? 0)
        }
    }

    public func streams(of aggregate: String?) throws -> [StreamID] {
        try lock.withLock {
            try checkOpen()
            return streamIndexes.keys
                .filter { aggregate == nil || $0.aggregate == aggregate }
                .sorted { ($0.aggregate, $0.key) < ($1.aggregate, $1.key) }
        }
    }

    public func snapshot(of stream: StreamID) throws -> Snapshot? {
        try lock.withLock {
            try checkOpen()
            return snapshots[stream]
        }
    }

    public func saveSnapshot(_ snapshot: Snapshot) throws {
        try lock.withLock {
            try checkOpen()
            if let old = snapshots[snapshot.stream], old.fingerprint == snapshot.fingerprint,
               old.version > snapshot.version {
                return
            }
            snapshots[snapshot.stream] = snapshot
        }
    }

    public func close() throws {
        lock.withLock { isClosed = true }
    }

    func checkOpen() throws {
        if isClosed { throw StoreError.closed }
    }
}
