import LuaESStore
import PostgresNIO

// The global order, and why a catch-up reader never skips an event.
//
// `position` comes from a sequence, and sequence values are handed out when rows are
// inserted, not when transactions commit: transaction A may take position 10, B take 11
// and commit first. A reader that saw 11 and then asked for "after 11" would skip 10.
//
// The fence: every event row stores its transaction's id (`xid`, `pg_current_xact_id()`),
// and the feed returns only rows whose xid is below `pg_snapshot_xmin` of the reading
// statement's own snapshot. Every transaction with an xid below xmin has ended, and every
// transaction still to commit has an xid >= xmin. That alone is not enough: a transaction
// could take its xid early and its positions late (several statements, or many rows in
// one statement interleaved with another transaction's rows), so an "old" xid could sit
// above a "new" one in position order. Hence the second half: each append takes its xid
// and all its positions inside a critical section, a session-level advisory lock
// (`pg_advisory_lock`, one per schema) taken right after BEGIN and released just before
// COMMIT. Sections do not overlap, so for any two appends the one with the smaller xid has
// all the smaller positions. Therefore the rows with xid < xmin are exactly a prefix of
// the final position order (minus rolled-back positions, which never appear): the feed
// returns that prefix and a later read can only add rows after it.
//
// The lock covers only the version check and the INSERT, not the commit's WAL flush, so
// commits of different appends still overlap (and share flushes). A reader is held back
// only while an older transaction is still open; `events(after:limit:)` waits a little
// for such transactions before returning what is settled.
extension PostgresEventStore {
    /// Appends `events` to `stream` as versions `expectedVersion + 1 ...`, in one transaction.
    /// - Throws: `StoreError.conflict` (nothing written) when the stream is not at
    ///   `expectedVersion`; `StoreError.invalid` for an empty append; `StoreError.io` when
    ///   the database fails or cannot be reached.
    @discardableResult
    public func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        guard !events.isEmpty else { throw StoreError.invalid("an append needs at least one event") }
        let batch = AppendBatch(stream: stream, expectedVersion: expectedVersion, events: events)
        return try commit([batch], savepoints: false, what: "appending to \(stream)")[0].get()
    }

    /// Appends several batches in one transaction (group commit), each in a savepoint of
    /// its own: a conflicting or empty batch fails alone, the others are committed.
    /// - Returns: one result per batch, in order.
    /// - Throws: when the transaction itself fails (`StoreError.io`); then nothing is written.
    public func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        guard !batches.isEmpty else { return [] }
        return try commit(batches, savepoints: true, what: "appending \(batches.count) batches")
    }

    /// One transaction: the ordering section (see above), the batches, COMMIT. Without
    /// savepoints the first failing batch fails the whole transaction.
    private func commit(_ batches: [AppendBatch], savepoints: Bool, what: String) throws -> [Result<[RecordedEvent], StoreError>] {
        let (events, lockKey, logger, hooks) = (self.events, appendLockKey, self.logger, self.hooks)
        let channel = commitListener.channel
        return try withConnection(what, retry: .beforeBegin) { connection, progress in
            let now = Self.now()
            var locked = false
            do {
                let results = try await Self.inTransaction(connection, progress, logger: logger) {
                    // Lock, then the transaction's xid, assigned here inside the section: the
                    // outer SELECT projects only after the subquery has produced its row.
                    locked = true  // set before: if the statement failed after locking, unlocking is harmless
                    try await connection.query(
                        "SELECT pg_current_xact_id() FROM (SELECT pg_advisory_lock(\(lockKey))) AS section", logger: logger)
                    var results: [Result<[RecordedEvent], StoreError>] = []
                    for batch in batches {
                        guard !batch.events.isEmpty else {
                            results.append(.failure(.invalid("an append needs at least one event")))
                            continue
                        }
                        guard savepoints else {
                            results.append(.success(try await Self.insert(batch, into: events, at: now, on: connection, logger: logger)))
                            continue
                        }
                        try await connection.query("SAVEPOINT batch", logger: logger)
                        do {
                            let recorded = try await Self.insert(batch, into: events, at: now, on: connection, logger: logger)
                            try await connection.query("RELEASE batch", logger: logger)
                            results.append(.success(recorded))
                        } catch let error as StoreError where error.isConflict {
                            try await connection.query("ROLLBACK TO batch", logger: logger)
                            try await connection.query("RELEASE batch", logger: logger)
                            results.append(.failure(error))
                        } catch is VersionTaken {
                            try await connection.query("ROLLBACK TO batch", logger: logger)
                            try await connection.query("RELEASE batch", logger: logger)
                            let actual = try await Self.version(of: batch.stream, in: events, on: connection, logger: logger)
                            results.append(.failure(.conflict(batch.stream, expected: batch.expectedVersion, actual: actual)))
                        }
                    }
                    // The notification goes out at COMMIT (never on a rollback): other nodes'
                    // long polls and projections wake at once (PostgresCommitListener).
                    try await connection.query("SELECT pg_advisory_unlock(\(lockKey)), pg_notify(\(channel), '')", logger: logger)
                    locked = false
                    if let pause = hooks.pauseBeforeCommit?() { try await Task.sleep(for: pause) }
                    return results
                }
                return results
            } catch {
                // inTransaction rolled back; the session lock outlives a rollback.
                if locked { await Self.unlock(lockKey, on: connection, logger: logger) }
                guard let taken = error as? VersionTaken else { throw error }
                // Read after the rollback: the version the other append committed.
                let actual = try await Self.version(of: taken.stream, in: events, on: connection, logger: logger)
                throw StoreError.conflict(taken.stream, expected: taken.expectedVersion, actual: actual)
            }
        }
    }

    /// Releases the append lock after a failed transaction. If that fails the connection
    /// is closed, which releases every lock it holds (the pool replaces it).
    private static func unlock(_ key: Int64, on connection: PostgresConnection, logger: Logger) async {
        do {
            try await connection.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
        } catch {
            logger.warning("releasing the append lock failed; closing the connection to release it",
                           metadata: ["error": "\(describe(error))"])
            try? await connection.close()  // closing is the fallback; its own failure leaves it closed too
        }
    }

    /// A unique_violation on (aggregate, key, version): a conflict, once the caller has
    /// rolled back and read the stream's version.
    private struct VersionTaken: Error {
        var stream: StreamID
        var expectedVersion: Int64
    }

    /// Inserts one batch at versions `expectedVersion + 1 ...` if the stream is at
    /// `expectedVersion`, in one statement. The caller holds the append lock in a transaction.
    /// - Throws: `StoreError.conflict` when the stream is elsewhere; `VersionTaken` when
    ///   another transaction inserted one of these versions first (SQLSTATE 23505).
    private static func insert(_ batch: AppendBatch, into events: String, at now: Int64,
                               on connection: PostgresConnection, logger: Logger) async throws -> [RecordedEvent] {
        let stream = batch.stream
        let new = batch.events
        let query: PostgresQuery = """
            INSERT INTO \(unescaped: events) (aggregate, "key", version, type, schema, data, meta, recorded_at, command_id)
            SELECT \(stream.aggregate), \(stream.key), \(batch.expectedVersion) + u.n, u.type, u.schema, u.data, u.meta,
                   \(now), CASE WHEN u.has_command THEN u.command_id END
            FROM unnest(\(new.map(\.type))::text[], \(new.map { Int64($0.schema) })::int8[],
                        \(new.map { ByteBuffer(string: $0.data) })::bytea[], \(new.map { ByteBuffer(string: $0.meta) })::bytea[],
                        \(new.map { $0.commandID ?? "" })::text[],
                        \(new.map { $0.commandID != nil })::bool[])
                 WITH ORDINALITY AS u(type, schema, data, meta, command_id, has_command, n)
            WHERE (SELECT coalesce(max(version), 0) FROM \(unescaped: events)
                   WHERE aggregate = \(stream.aggregate) AND "key" = \(stream.key)) = \(batch.expectedVersion)
            ORDER BY u.n
            RETURNING position, version
            """
        var rows: [(position: Int64, version: Int64)] = []
        do {
            for try await (position, version) in try await connection.query(query, logger: logger).decode((Int64, Int64).self) {
                rows.append((position, version))
            }
        } catch where sqlState(error) == "23505" {
            // Another append took one of these versions between our check and our insert
            // (the INSERT waited for it to commit). The transaction or savepoint is aborted
            // now: the caller rolls back, then reads the stream's version for the conflict.
            throw VersionTaken(stream: stream, expectedVersion: batch.expectedVersion)
        }
        guard rows.count == new.count else {
            let actual = try await version(of: stream, in: events, on: connection, logger: logger)
            throw StoreError.conflict(stream, expected: batch.expectedVersion, actual: actual)
        }
        rows.sort { $0.version < $1.version }
        return zip(rows, new).map { row, event in
            RecordedEvent(position: row.position, stream: stream, version: row.version, type: event.type,
                          schema: event.schema, data: event.data, meta: event.meta, recordedAt: now)
        }
    }
}
