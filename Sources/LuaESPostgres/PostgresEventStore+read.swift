import Foundation
import LuaESStore
import PostgresNIO

extension PostgresEventStore {
    /// How long the feed waits, at most, for older transactions to end when newer events
    /// are committed but not yet settled (see the fence in `+append`).
    static let feedSettleWait: Duration = .seconds(2)

    /// The quoted schema (`"esrun"`).
    var quotedSchema: String { "\"\(configuration.schema)\"" }

    /// Events of `stream` with version > `after` (and <= `upTo` when given), in version order.
    /// A stream needs no fence: version n + 1 is only ever inserted once version n is committed.
    public func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent] {
        if let limit, limit <= 0 { return [] }
        let (schema, logger) = (quotedSchema, self.logger)
        let query: PostgresQuery = """
            SELECT \(unescaped: PostgresEventRows.columns) FROM \(unescaped: PostgresEventRows.from(schema: schema))
            WHERE e.aggregate = \(stream.aggregate) AND e."key" = \(stream.key) AND e.version > \(after)
              AND e.version <= \(upTo ?? Int64.max)
            ORDER BY e.version LIMIT \(Int64(limit ?? Int.max))
            """
        return try withConnection("reading \(stream)", retry: .always) { connection, _ in
            try await Self.read(query, schema: schema, on: connection, logger: logger)
        }
    }

    /// The global feed: events with position > `position`, in position order, at most
    /// `limit`; only events every earlier one of which is committed and visible (the fence).
    /// When newer events are held back by an open older transaction, waits up to
    /// `feedSettleWait` for it, then returns what is settled.
    public func events(after position: Int64, limit: Int) throws -> [RecordedEvent] {
        guard limit > 0 else { return [] }
        let (schema, logger) = (quotedSchema, self.logger)
        let query: PostgresQuery = """
            SELECT \(unescaped: PostgresEventRows.columns), e.xid < pg_snapshot_xmin(pg_current_snapshot())
            FROM \(unescaped: PostgresEventRows.from(schema: schema)) WHERE e.position > \(position)
            ORDER BY e.position LIMIT \(Int64(limit))
            """
        return try withConnection("reading the feed", retry: .always) { connection, _ in
            let deadline = ContinuousClock.now + Self.feedSettleWait
            var pause: Duration = .microseconds(500)
            while true {
                var settledRows: [PostgresEventRows.Row] = []
                var heldBack = false
                let rows = try await connection.query(query, logger: logger)
                for try await (c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, isSettled)
                    in rows.decode((Int64, String, String, Int64, String, Int, ByteBuffer, Int, ByteBuffer?, UUID?, String?,
                                    String?, Int64?, Bool).self) {
                    // The settled rows come first (xid order is position order); stop at the first other.
                    if heldBack || !isSettled {
                        heldBack = true
                        continue
                    }
                    settledRows.append(PostgresEventRows.Row((c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12)))
                }
                if !heldBack || ContinuousClock.now >= deadline {
                    // a settled follower's head is settled too (one transaction): fetched if not read
                    var reader = PostgresEventRows(schema: schema, on: connection, logger: logger)
                    var settled: [RecordedEvent] = []
                    settled.reserveCapacity(settledRows.count)
                    for row in settledRows { settled.append(try await reader.event(row)) }
                    return settled
                }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(20))
            }
        }
    }

    /// The events appended with `commandID` (an idempotency key), in position order: they
    /// are consecutive, from the first head with that key to the next head that is not its.
    public func events(forCommand commandID: String) throws -> [RecordedEvent] {
        let (schema, logger) = (quotedSchema, self.logger)
        let events = self.events
        let query: PostgresQuery = """
            SELECT \(unescaped: PostgresEventRows.columns) FROM \(unescaped: PostgresEventRows.from(schema: schema))
            WHERE e.position >= (SELECT min(c.position) FROM \(unescaped: events) AS c WHERE c.command_id = \(commandID))
              AND e.position < coalesce((
                  SELECT min(n.position) FROM \(unescaped: events) AS n
                  WHERE n.position > (SELECT min(c.position) FROM \(unescaped: events) AS c WHERE c.command_id = \(commandID))
                    AND n.ordinal = 0 AND n.command_id IS DISTINCT FROM \(commandID)), \(Int64.max))
            ORDER BY e.position
            """
        return try withConnection("reading the events of command \(commandID)", retry: .always) { connection, _ in
            try await Self.read(query, schema: schema, on: connection, logger: logger)
        }
    }

    /// The events of `query`'s rows (`PostgresEventRows.columns`).
    static func read(_ query: PostgresQuery, schema: String, on connection: PostgresConnection,
                     logger: Logger) async throws -> [RecordedEvent] {
        var rows: [PostgresEventRows.Row] = []
        for try await columns in try await connection.query(query, logger: logger).decode(PostgresEventRows.Columns.self) {
            rows.append(PostgresEventRows.Row(columns))
        }
        var reader = PostgresEventRows(schema: schema, on: connection, logger: logger)
        var result: [RecordedEvent] = []
        result.reserveCapacity(rows.count)
        for row in rows { result.append(try await reader.event(row)) }
        return result
    }

    /// The stream's current version (0 when it has no events).
    public func version(of stream: StreamID) throws -> Int64 {
        let (events, logger) = (self.events, self.logger)
        return try withConnection("reading the version of \(stream)", retry: .always) { connection, _ in
            try await Self.version(of: stream, in: events, on: connection, logger: logger)
        }
    }

    /// The stream's version as `connection` sees it.
    static func version(of stream: StreamID, in events: String, on connection: PostgresConnection,
                        logger: Logger) async throws -> Int64 {
        let rows = try await connection.query("""
            SELECT coalesce(max(version), 0) FROM \(unescaped: events)
            WHERE aggregate = \(stream.aggregate) AND "key" = \(stream.key)
            """, logger: logger)
        for try await version in rows.decode(Int64.self) { return version }
        return 0
    }

    /// The streams of `aggregate` (of every aggregate when nil), ordered by aggregate and
    /// key, by their UTF-8 bytes (`COLLATE "C"`), as the SQLite store orders them.
    public func streams(of aggregate: String?) throws -> [StreamID] {
        let (events, logger) = (self.events, self.logger)
        let query: PostgresQuery = if let aggregate {
            """
            SELECT aggregate, "key" FROM \(unescaped: events) WHERE aggregate = \(aggregate)
            GROUP BY aggregate, "key" ORDER BY "key" COLLATE "C"
            """
        } else {
            """
            SELECT aggregate, "key" FROM \(unescaped: events)
            GROUP BY aggregate, "key" ORDER BY aggregate COLLATE "C", "key" COLLATE "C"
            """
        }
        return try withConnection("listing streams", retry: .always) { connection, _ in
            var result: [StreamID] = []
            for try await (aggregate, key) in try await connection.query(query, logger: logger).decode((String, String).self) {
                result.append(StreamID(aggregate: aggregate, key: key))
            }
            return result
        }
    }
}
