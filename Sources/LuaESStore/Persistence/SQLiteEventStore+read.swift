import LuaESCore

extension SQLiteEventStore {
    static let streamEventsSQL = """
        SELECT position, version, type, schema, data, meta, recorded_at FROM events
        WHERE aggregate = ?1 AND "key" = ?2 AND version > ?3 AND version <= ?4
        ORDER BY version LIMIT ?5
        """
    static let replaySQL = """
        SELECT version, type, schema, data FROM events
        WHERE aggregate = ?1 AND "key" = ?2 AND version > ?3 AND version <= ?4
        ORDER BY version LIMIT ?5
        """
    static let feedSQL = """
        SELECT position, aggregate, "key", version, type, schema, data, meta, recorded_at FROM events
        WHERE position > ?1 ORDER BY position LIMIT ?2
        """
    static let commandEventsSQL = """
        SELECT position, aggregate, "key", version, type, schema, data, meta, recorded_at FROM events
        WHERE command_id = ?1 ORDER BY position
        """
    static let streamsSQL = #"SELECT DISTINCT aggregate, "key" FROM events ORDER BY aggregate, "key""#
    static let streamsOfAggregateSQL = #"SELECT DISTINCT aggregate, "key" FROM events WHERE aggregate = ?1 ORDER BY "key""#

    /// Events of `stream` with version > `after` (and <= `upTo` when given), in version order.
    /// - Parameter limit: at most this many events; nil for all.
    public func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent] {
        if let limit, limit <= 0 { return [] }
        return try withReader { reader in
            // The version sizes the result once instead of growing it row by row; it may be
            // older than the read that follows, which only makes the hint a little off.
            let last = max(min(try Self.version(of: stream, on: reader), upTo ?? Int64.max), 0)
            var expected = max(last - max(after, 0), 0)  // both terms >= 0: cannot overflow
            if let limit { expected = min(expected, Int64(limit)) }
            return try reader.withStatement(Self.streamEventsSQL) { statement in
                try statement.bind(stream.aggregate, at: 1)
                try statement.bind(stream.key, at: 2)
                try statement.bind(after, at: 3)
                try statement.bind(upTo ?? Int64.max, at: 4)
                try statement.bind(limit ?? -1, at: 5)  // "If the LIMIT expression evaluates to a negative value ... no upper bound"
                var events: [RecordedEvent] = []
                events.reserveCapacity(Int(expected))
                var type = ""
                while try statement.step() {
                    events.append(RecordedEvent(
                        position: statement.int64(at: 0), stream: stream, version: statement.int64(at: 1),
                        type: statement.string(at: 2, reusing: &type), schema: Int(statement.int64(at: 3)),
                        data: statement.string(at: 4), meta: statement.string(at: 5),
                        recordedAt: statement.int64(at: 6)))
                }
                return events
            }
        }
    }

    /// Fills `page` straight from the rows' bytes: the hot path of a cold load.
    public func readReplayPage(_ page: inout ReplayPage, of stream: StreamID, after: Int64, upTo: Int64?, limit: Int) throws {
        page.removeAll()
        guard limit > 0 else { return }
        try withReader { reader in
            try reader.withStatement(Self.replaySQL) { statement in
                try statement.bind(stream.aggregate, at: 1)
                try statement.bind(stream.key, at: 2)
                try statement.bind(after, at: 3)
                try statement.bind(upTo ?? Int64.max, at: 4)
                try statement.bind(limit, at: 5)
                while try statement.step() {
                    page.append(type: statement.bytes(at: 1), data: statement.bytes(at: 3),
                                schema: Int(statement.int64(at: 2)), version: statement.int64(at: 0))
                }
            }
        }
    }

    /// The global feed: events with position > `position`, in position order, at most `limit`.
    public func events(after position: Int64, limit: Int) throws -> [RecordedEvent] {
        guard limit > 0 else { return [] }
        return try withReader { reader in
            try reader.withStatement(Self.feedSQL) { statement in
                try statement.bind(position, at: 1)
                try statement.bind(limit, at: 2)
                return try Self.rowsWithStreams(statement, capacity: min(limit, 4096))
            }
        }
    }

    /// The events appended with `commandID` (an idempotency key), in position order.
    public func events(forCommand commandID: String) throws -> [RecordedEvent] {
        try withReader { reader in
            try reader.withStatement(Self.commandEventsSQL) { statement in
                try statement.bind(commandID, at: 1)
                return try Self.rowsWithStreams(statement, capacity: 4)
            }
        }
    }

    /// The stream's current version (0 when it has no events).
    public func version(of stream: StreamID) throws -> Int64 {
        try withReader { reader in try Self.version(of: stream, on: reader) }
    }

    /// The stream's version as `connection` sees it (in its transaction, if one is open).
    static func version(of stream: StreamID, on connection: SQLiteConnection) throws -> Int64 {
        try connection.withStatement(maxVersionSQL) { statement in
            try statement.bind(stream.aggregate, at: 1)
            try statement.bind(stream.key, at: 2)
            return try statement.step() ? statement.int64(at: 0) : 0
        }
    }

    /// The streams of `aggregate` (of every aggregate when nil), ordered by aggregate and
    /// key (by their UTF-8 bytes).
    public func streams(of aggregate: String?) throws -> [StreamID] {
        try withReader { reader in
            try reader.withStatement(aggregate == nil ? Self.streamsSQL : Self.streamsOfAggregateSQL) { statement in
                if let aggregate { try statement.bind(aggregate, at: 1) }
                var streams: [StreamID] = []
                var name = ""
                while try statement.step() {
                    streams.append(StreamID(aggregate: statement.string(at: 0, reusing: &name),
                                            key: statement.string(at: 1)))
                }
                return streams
            }
        }
    }

    /// Events from rows of (position, aggregate, key, version, type, schema, data, meta,
    /// recorded_at), reusing the stream and type strings while rows repeat them.
    static func rowsWithStreams(_ statement: SQLiteStatement, capacity: Int) throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        events.reserveCapacity(capacity)
        var aggregate = "", key = "", type = ""
        var stream = StreamID(aggregate: "", key: "")
        while try statement.step() {
            let rowAggregate = statement.string(at: 1, reusing: &aggregate)
            let rowKey = statement.string(at: 2, reusing: &key)
            if rowAggregate != stream.aggregate || rowKey != stream.key {
                stream = StreamID(aggregate: rowAggregate, key: rowKey)
            }
            events.append(RecordedEvent(
                position: statement.int64(at: 0), stream: stream, version: statement.int64(at: 3),
                type: statement.string(at: 4, reusing: &type), schema: Int(statement.int64(at: 5)),
                data: statement.string(at: 6), meta: statement.string(at: 7),
                recordedAt: statement.int64(at: 8)))
        }
        return events
    }
}
