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
// (`pg_advisory_lock`, one per schema). An append is one CALL of the procedure
// `append_events_v5` (`+appendProcedure`) in a transaction of its own (autocommit): the
// procedure takes the lock first, then the xid (`pg_current_xact_id()`, so it is assigned
// there and not before: nothing earlier in the transaction writes), then inserts every
// batch (all the positions), then releases the lock, and only then COMMITs. Sections do
// not overlap, so for any two appends the one with the smaller xid has all the smaller
// positions. Therefore the rows with xid < xmin are exactly a prefix of the final position
// order (minus rolled-back positions, which never appear): the feed returns that prefix
// and a later read can only add rows after it. Every build that can write this schema
// version takes the same lock in the same order; one of an older version fails instead of
// writing (`+compactSchema`).
//
// The lock covers only the version checks and the INSERTs, not the commit's WAL flush, so
// commits of different appends still overlap (and share flushes). A reader is held back
// only while an older transaction is still open; `events(after:limit:)` waits a little
// for such transactions before returning what is settled.
//
// Retrying. Without BEGIN an append is one statement, so "begun" means "sent": `progress`
// is marked just before the CALL goes to the connection. A connection already known to be
// closed is refused before that, and that failure is retried on another connection, as
// nothing has left this process. Once the CALL is sent, a lost connection leaves the outcome
// unknown: the server may have committed and only the answer been lost. Running the CALL
// again is not harmless: its expected versions would make it conflict rather than write
// twice, but the caller would take that conflict for another writer's and decide its
// command again (the engine retries on conflicts), applying it twice. So that failure is
// reported (`StoreError.io`, saying it may have been committed), never retried.
extension PostgresEventStore {
    /// Appends `events` to `stream` as versions `expectedVersion + 1 ...`, in one transaction.
    /// - Throws: `StoreError.conflict` (nothing written) when the stream is not at
    ///   `expectedVersion`; `StoreError.invalid` for an empty append; `StoreError.io` when
    ///   the database fails or cannot be reached.
    @discardableResult
    public func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        guard !events.isEmpty else { throw StoreError.invalid("an append needs at least one event") }
        let batch = AppendBatch(stream: stream, expectedVersion: expectedVersion, events: events)
        return try commit([batch], what: "appending to \(stream)")[0].get()
    }

    /// Appends several batches in one transaction (group commit), each in a subtransaction
    /// of its own: a conflicting or empty batch fails alone, the others are committed.
    /// - Returns: one result per batch, in order.
    /// - Throws: when the transaction itself fails (`StoreError.io`); then nothing is written.
    public func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        guard !batches.isEmpty else { return [] }
        guard batches.count > Self.batchesPerCall else { return try commit(batches, what: "appending \(batches.count) batches") }
        // Each batch is a subtransaction, and a backend keeps the ids of only 64 of them in
        // shared memory; past that, every snapshot on the server has to look them up on disk
        // (subtransaction overflow). So a larger group commit is several CALLs, each batch
        // still on its own: a CALL that fails fails only its batches.
        var outcomes: [Result<[RecordedEvent], StoreError>] = []
        for start in stride(from: 0, to: batches.count, by: Self.batchesPerCall) {
            let part = Array(batches[start..<min(start + Self.batchesPerCall, batches.count)])
            do {
                outcomes += try commit(part, what: "appending \(part.count) batches")
            } catch let error as StoreError {
                outcomes += part.map { _ in .failure(error) }
            }
        }
        return outcomes
    }

    /// The most batches one CALL carries (the subtransaction ids a backend caches).
    static let batchesPerCall = 64

    /// One CALL of `append_events_v5` with every non-empty batch: one round trip, one transaction.
    private func commit(_ batches: [AppendBatch], what: String) throws -> [Result<[RecordedEvent], StoreError>] {
        let sent = batches.filter { !$0.events.isEmpty }
        let empty = StoreError.invalid("an append needs at least one event")
        guard !sent.isEmpty else { return batches.map { _ in .failure(empty) } }
        let (lockKey, logger, hooks) = (appendLockKey, self.logger, self.hooks)
        let now = Self.now()
        lookUpTemplatesMetTwice()
        let query = Self.appendCall(sent, procedure: appendProcedureName, at: now, lockKey: lockKey,
                                    channel: "", pause: hooks.pauseBeforeCommit?() ?? .zero, templates: templateSightings)
        let (positions, actual) = try withConnection(what, retry: .beforeBegin) { connection, progress in
            guard !connection.isClosed else { throw ConnectionClosedBeforeSending() }
            progress.hasBegun = true
            hooks.countAppendStatement()
            do {
                for try await row in try await connection.query(query, logger: logger).decode(([Int64], [Int64]).self) {
                    return row
                }
                throw StoreError.io("PostgreSQL: \(what): the append procedure returned no row")
            } catch {
                // An error after the procedure took the lock leaves this session holding it
                // (a session lock outlives the rollback). Unlocking when it is not held only warns.
                if !Self.isConnectionLost(error) {
                    hooks.countAppendStatement()
                    await Self.unlock(lockKey, on: connection, logger: logger)
                }
                throw error
            }
        }
        guard positions.count == sent.reduce(0, { $0 + $1.events.count }), actual.count == sent.count else {
            throw StoreError.io("PostgreSQL: \(what): the append procedure returned \(positions.count) positions "
                + "and \(actual.count) versions")
        }
        if actual.contains(-1) { commitAnnouncer.committed() }
        var outcomes: [Result<[RecordedEvent], StoreError>] = []
        var (next, first) = (0, 0)
        for batch in batches {
            guard !batch.events.isEmpty else {
                outcomes.append(.failure(empty))
                continue
            }
            defer { (next, first) = (next + 1, first + batch.events.count) }
            guard actual[next] == -1 else {
                let taken = batch.events.lazy.compactMap(\.commandID).first
                outcomes.append(.failure(actual[next] == Self.duplicateCommandMark && taken != nil ? .duplicateCommand(taken!)
                    : .conflict(batch.stream, expected: batch.expectedVersion, actual: actual[next])))
                continue
            }
            outcomes.append(.success(batch.events.enumerated().map { index, event in
                RecordedEvent(position: positions[first + index], stream: batch.stream,
                              version: batch.expectedVersion + Int64(index) + 1, type: event.type, schema: event.schema,
                              data: event.data, meta: event.meta, recordedAt: now)
            }))
        }
        return outcomes
    }

    /// Gives the templates met a second time their ids (one round trip, once per template and
    /// node); if that fails they stay inline, which only costs room.
    private func lookUpTemplatesMetTwice() {
        let wanted = templateSightings.unresolved
        guard !wanted.isEmpty else { return }
        let (sightings, table, logger) = (templateSightings, templates, self.logger)
        _ = try? withConnection("looking up metadata templates", retry: .always) { connection, _ in
            try await sightings.lookUp(wanted, in: table, on: connection, logger: logger)
        }
    }

    /// `CALL append_events_v5(...)` for `batches` (none empty), in the procedure's argument order.
    private static func appendCall(_ batches: [AppendBatch], procedure: String, at now: Int64, lockKey: Int64,
                                   channel: String, pause: Duration, templates: TemplateSightings) -> PostgresQuery {
        var columns = PostgresEventColumns()
        for batch in batches { columns.append(batch.events, sighting: templates.sighting) }
        let seconds = Double(pause.components.seconds) + Double(pause.components.attoseconds) / 1e18
        return """
            CALL \(unescaped: procedure)(
                \(batches.map(\.stream.aggregate))::text[], \(batches.map(\.stream.key))::text[],
                \(batches.map(\.expectedVersion))::int8[], \(batches.map { Int64($0.events.count) })::int8[],
                \(columns.types)::text[], \(columns.schemas)::int8[], \(columns.data)::bytea[],
                \(columns.ordinals)::int8[], \(columns.kinds)::int8[], \(columns.metas)::bytea[],
                \(columns.ids)::uuid[], \(columns.templateIDs)::int8[],
                \(columns.requests)::text[], \(columns.commandIDs)::text[], \(columns.hasCommand)::bool[],
                \(now)::int8, \(lockKey)::int8, \(channel)::text, \(seconds)::float8, NULL, NULL)
            """
    }

    /// Releases the append lock after a failed CALL. If that fails the connection is
    /// closed, which releases every lock it holds (the pool replaces it).
    private static func unlock(_ key: Int64, on connection: PostgresConnection, logger: Logger) async {
        do {
            try await connection.query("SELECT pg_advisory_unlock(\(key))", logger: logger)
        } catch {
            logger.warning("releasing the append lock failed; closing the connection to release it",
                           metadata: ["error": "\(describe(error))"])
            try? await connection.close()  // closing is the fallback; its own failure leaves it closed too
        }
    }
}

/// A leased connection that was already closed: the append was not sent, so it may be
/// tried again on another one.
struct ConnectionClosedBeforeSending: Error {}
