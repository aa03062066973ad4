extension SQLiteEventStore {
    /// Rows per INSERT statement and the statement's SQL: a batch is cut into chunks of
    /// these sizes, largest first, so that SQLite runs one statement per 64 events.
    static let insertChunks = [64, 32, 16, 8, 4, 2, 1].map { (rows: $0, sql: insertEventsSQL(rows: $0)) }

    static let rowParameters = 10

    /// An INSERT of `rows` events of one stream: ?1 the stream's id, then version, type, schema,
    /// data, ordinal, meta, id, request, command_id, recorded_at for each row.
    static func insertEventsSQL(rows: Int) -> String {
        let values = (0..<rows).map { row in
            let first = 2 + row * rowParameters
            return "(?1, " + (first..<(first + rowParameters)).map { "?\($0)" }.joined(separator: ", ") + ")"
        }
        return "INSERT INTO events (stream, version, type, schema, data, ordinal, meta, id, request, command_id, recorded_at) "
            + "VALUES " + values.joined(separator: ", ")
    }

    static let commandTakenSQL = "SELECT 1 FROM events WHERE command_id = ?1 LIMIT 1"

    static let maxVersionSQL = "SELECT max(version) FROM events WHERE stream = ?1"

    /// Appends `events` to `stream` as versions `expectedVersion + 1 ...`, in one transaction.
    /// - Throws: `StoreError.conflict` (nothing written) when the stream is not at
    ///   `expectedVersion`; `StoreError.invalid` for an empty append; `StoreError.io`.
    @discardableResult
    public func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        guard !events.isEmpty else { throw StoreError.invalid("an append needs at least one event") }
        return try withWriter { writer in
            try inTransaction(writer) {
                try insert(events, to: stream, expectedVersion: expectedVersion, at: Self.now(), on: writer)
            }
        }
    }

    /// Appends several batches in one transaction (group commit), each checked on its own:
    /// a conflicting or empty batch fails alone, the others are committed.
    /// - Returns: one result per batch, in order.
    /// - Throws: when the transaction itself fails (`StoreError.io`); then nothing is written.
    public func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        guard !batches.isEmpty else { return [] }
        return try withWriter { writer in
            try inTransaction(writer) {
                let now = Self.now()
                return try batches.map { batch in
                    guard !batch.events.isEmpty else {
                        return .failure(StoreError.invalid("an append needs at least one event"))
                    }
                    // A savepoint per batch: a conflict found half-way through undoes
                    // that batch only.
                    try writer.withStatement("SAVEPOINT batch") { _ = try $0.step() }
                    do {
                        let recorded = try insert(batch.events, to: batch.stream,
                                                  expectedVersion: batch.expectedVersion, at: now, on: writer)
                        try writer.withStatement("RELEASE batch") { _ = try $0.step() }
                        return .success(recorded)
                    } catch let error as StoreError {
                        try writer.withStatement("ROLLBACK TO batch") { _ = try $0.step() }
                        writer.interned.forgetPending()
                        try writer.withStatement("RELEASE batch") { _ = try $0.step() }
                        return .failure(error)
                    }
                }
            }
        }
    }

    /// Checks the version and inserts; the caller holds the writer and a transaction.
    private func insert(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64,
                        at now: Int64, on writer: SQLiteConnection) throws -> [RecordedEvent] {
        let actual = try Self.version(of: stream, on: writer)
        guard actual == expectedVersion else {
            throw StoreError.conflict(stream, expected: expectedVersion, actual: actual)
        }
        try checkCommandsAreNew(events, on: writer)
        let streamID = try writer.interned.streamID(stream, on: writer, create: true)!
        let rows = try SQLiteStoredRow.rows(of: events, at: now, on: writer)
        var recorded: [RecordedEvent] = []
        recorded.reserveCapacity(events.count)
        do {
            var version = expectedVersion
            var start = 0
            while start < rows.count {
                let (count, sql) = Self.insertChunks.first { $0.rows <= rows.count - start }!
                try writer.withStatement(sql) { statement in
                    try statement.bind(streamID, at: 1)
                    var parameter: Int32 = 2
                    for (offset, row) in rows[start..<(start + count)].enumerated() {
                        try row.bind(to: statement, at: parameter, version: version + 1 + Int64(offset))
                        parameter += Int32(Self.rowParameters)
                    }
                    _ = try statement.step()
                    statement.clearBindings()
                }
                // The rows of one INSERT get consecutive rowids: each is max(rowid) + 1 and this
                // connection holds the write lock.
                var position = writer.lastInsertedRowID - Int64(count) + 1
                for event in events[start..<(start + count)] {
                    version += 1
                    recorded.append(RecordedEvent(
                        position: position, stream: stream, version: version,
                        type: event.type, schema: event.schema, data: event.data, meta: event.meta,
                        recordedAt: now))
                    position += 1
                }
                start += count
            }
        } catch let error as SQLiteError where error.isUniqueViolation {
            // The backstop: a version above max(version) is taken only if a stream has
            // holes (rows removed by hand). Still a conflict, never a partial write: the
            // caller rolls back.
            let taken = try Self.version(of: stream, on: writer)
            throw StoreError.conflict(stream, expected: expectedVersion, actual: taken)
        }
        return recorded
    }

    /// An idempotency key commits once: this connection holds the write lock, so no other
    /// commit can take the key between this check and the insert.
    private func checkCommandsAreNew(_ events: [NewEvent], on writer: SQLiteConnection) throws {
        var seen: String?
        for case let id? in events.lazy.map(\.commandID) where id != seen {
            seen = id
            let taken = try writer.withStatement(Self.commandTakenSQL) { statement in
                try statement.bind(id, at: 1)
                defer { statement.clearBindings() }
                return try statement.step()
            }
            if taken { throw StoreError.duplicateCommand(id) }
        }
    }
}
