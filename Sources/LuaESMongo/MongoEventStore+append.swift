import Foundation
import LuaESStore

extension MongoEventStore {
    @discardableResult
    public func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        try append(AppendBatch(stream: stream, expectedVersion: expectedVersion, events: events)).get()
    }

    /// Each batch is its own commit document, in order: a conflict or a limit fails that batch only.
    public func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        try checkOpen()
        return batches.map { append($0) }
    }

    /// Lost sequence numbers (taken by a reader's gap fill) and dead claims are retried this often.
    static let maxAttempts = 20

    func append(_ batch: AppendBatch) -> Result<[RecordedEvent], StoreError> {
        do {
            try checkOpen()
            let events = try checkLimits(batch)
            for _ in 1...Self.maxAttempts {
                if let recorded = try attemptAppend(batch, events: events) { return .success(recorded) }
            }
            return .failure(.io("MongoDB at \(connection.server): appending to \(batch.stream) lost its feed position "
                + "\(Self.maxAttempts) times (readers filling gaps faster than this writer inserts?)"))
        } catch {
            return .failure(fail(error, while: "appending to \(batch.stream)"))
        }
    }

    /// The events as BSON, once the batch is known to fit in one document.
    private func checkLimits(_ batch: AppendBatch) throws(StoreError) -> [BSONDocument] {
        let stream = batch.stream
        guard !batch.events.isEmpty else { throw StoreError.invalid("an append needs at least one event") }
        guard batch.expectedVersion >= 0 else { throw StoreError.invalid("expected version \(batch.expectedVersion) is negative") }
        guard !stream.aggregate.isEmpty else { throw StoreError.invalid("an aggregate name is never empty") }
        guard batch.events.count < MongoLayout.maxEventsPerAppend else {
            throw StoreError.invalid("an append to \(stream) of \(batch.events.count) events: at most "
                + "\(MongoLayout.maxEventsPerAppend - 1) in one append on MongoDB")
        }
        let events = PackedEvent.pack(batch.events).map(MongoLayout.event)
        let size = MongoLayout.commit(id: batch.events.compactMap(\.commandID).first, stream: stream, expectedVersion: batch.expectedVersion,
                                      sequence: 0, recordedAt: 0, events: events).count
        guard size <= MongoLayout.maxDocumentBytes else {
            throw StoreError.invalid("an append to \(stream) of \(batch.events.count) events is \(size / 1024) KB; on MongoDB "
                + "one append is one document of at most 16 MiB: append fewer or smaller events")
        }
        return events
    }

    /// One try with a fresh sequence number; nil when the number was lost to a gap fill, or a
    /// command id was held by a dead claim (try again).
    private func attemptAppend(_ batch: AppendBatch, events: [BSONDocument]) throws -> [RecordedEvent]? {
        let stream = batch.stream
        let actual = try version(of: stream)
        guard actual == batch.expectedVersion else {
            throw StoreError.conflict(stream, expected: batch.expectedVersion, actual: actual)
        }
        let sequence = try takeSequence()
        var ids: [String] = []
        for id in batch.events.compactMap(\.commandID) where !ids.contains(id) { ids.append(id) }
        // From here on a failure leaves the number unused: fill it, so readers need not wait.
        var committed = false
        defer { if !committed { fill(sequence) } }
        for (index, id) in ids.enumerated().dropFirst() {
            guard try claim(id, sequence: sequence, index: index) else { return nil }
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let document = MongoLayout.commit(id: ids.first, stream: stream, expectedVersion: batch.expectedVersion,
                                          sequence: sequence, recordedAt: now, events: events)
        let outcome: MongoConnection.Written
        do {
            outcome = try connection.insert(document, into: MongoLayout.commits)
        } catch {
            // perhaps committed: filling our number could hide a commit that went in
            if error.mayHaveWritten { committed = true }
            throw error
        }
        if outcome == .done {
            committed = true
            return CommitDocument(inserted: stream, first: batch.expectedVersion + 1,
                                  sequence: sequence, recordedAt: now, events: batch.events).recorded
        }
        // A duplicate key: read which one, never trust the message.
        let next = batch.expectedVersion + 1
        if try connection.findOne(MongoLayout.commits, filter: BSONDocument {
            $0.append("a", stream.aggregate)
            $0.append("k", stream.key)
            $0.append("f", next)
        }, projection: BSONDocument { $0.append("f", int32: 1) }) != nil {
            throw StoreError.conflict(stream, expected: batch.expectedVersion, actual: try version(of: stream))
        }
        if let first = ids.first, try resolve(first) == .committed { throw StoreError.duplicateCommand(first) }
        return nil  // our number was filled, or a dead claim held our id: again, with a new number
    }

    /// The next feed sequence number (findAndModify `$inc` on the counter, created at 1).
    func takeSequence() throws -> Int64 {
        let after = try connection.findAndModify(MongoLayout.counters, filter: BSONDocument { $0.append("_id", "feed") },
                                                 update: BSONDocument { $0.append("$inc", BSONDocument { $0.append("n", Int64(1)) }) })
        guard let sequence = after?["n"]?.int, sequence > 0 else {
            throw StoreError.io("MongoDB at \(connection.server): the feed counter did not answer with a number")
        }
        return sequence
    }

    /// Inserts a gap fill at `sequence` unless something is there; errors are logged: a
    /// number left empty is filled by the next reader that needs it.
    func fill(_ sequence: Int64) {
        do {
            _ = try connection.insert(MongoLayout.gapFill(sequence: sequence), into: MongoLayout.commits)
        } catch {
            logger.debug("filling feed sequence \(sequence) failed (a reader will): \(error)")
        }
    }
}

extension CommitDocument {
    /// The commit just inserted, without reading it back.
    init(inserted stream: StreamID, first: Int64, sequence: Int64, recordedAt: Int64, events: [NewEvent]) {
        self.stream = stream
        self.first = first
        self.sequence = sequence
        self.recordedAt = recordedAt
        self.events = events.enumerated().map { index, event in
            (RecordedEvent(position: MongoLayout.position(sequence: sequence, index: index), stream: stream,
                           version: first + Int64(index), type: event.type, schema: event.schema, data: event.data,
                           meta: event.meta, recordedAt: recordedAt), event.commandID)
        }
    }
}
