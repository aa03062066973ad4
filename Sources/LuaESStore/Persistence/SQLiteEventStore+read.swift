import LuaESCore

extension SQLiteEventStore {
    static let streamEventsSQL = """
        SELECT \(SQLiteEventRows.columns) FROM events
        WHERE stream = ?1 AND version > ?2 AND version <= ?3 ORDER BY version LIMIT ?4
        """
    static let replaySQL = """
        SELECT version, type, schema, data FROM events
        WHERE stream = ?1 AND version > ?2 AND version <= ?3 ORDER BY version LIMIT ?4
        """
    static let feedSQL = "SELECT \(SQLiteEventRows.columns) FROM events WHERE position > ?1 ORDER BY position LIMIT ?2"
    /// From the first event of the command on; the caller stops at the next commit.
    static let commandEventsSQL = """
        SELECT \(SQLiteEventRows.columns) FROM events
        WHERE position >= (SELECT min(position) FROM events WHERE command_id = ?1) ORDER BY position
        """
    static let streamsSQL = #"SELECT aggregate, "key" FROM streams ORDER BY aggregate, "key""#
    static let streamsOfAggregateSQL = #"SELECT aggregate, "key" FROM streams WHERE aggregate = ?1 ORDER BY "key""#

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
            guard let id = try reader.interned.streamID(stream, on: reader) else { return [] }
            return try reader.withStatement(Self.streamEventsSQL) { statement in
                try statement.bind(id, at: 1)
                try statement.bind(after, at: 2)
                try statement.bind(upTo ?? Int64.max, at: 3)
                try statement.bind(limit ?? -1, at: 4)  // "If the LIMIT expression evaluates to a negative value ... no upper bound"
                var rows = SQLiteEventRows(on: reader)
                return try rows.read(statement, capacity: Int(expected))
            }
        }
    }

    /// Fills `page` straight from the rows' bytes: the hot path of a cold load.
    public func readReplayPage(_ page: inout ReplayPage, of stream: StreamID, after: Int64, upTo: Int64?, limit: Int) throws {
        page.removeAll()
        guard limit > 0 else { return }
        try withReader { reader in
            guard let id = try reader.interned.streamID(stream, on: reader) else { return }
            try reader.withStatement(Self.replaySQL) { statement in
                try statement.bind(id, at: 1)
                try statement.bind(after, at: 2)
                try statement.bind(upTo ?? Int64.max, at: 3)
                try statement.bind(limit, at: 4)
                var typeID: Int64 = -1
                var type: [UInt8] = []
                while try statement.step() {
                    let rowType = statement.int64(at: 1)
                    if rowType != typeID {
                        type = Array(try reader.interned.name(rowType, on: reader).utf8)
                        typeID = rowType
                    }
                    type.withUnsafeBufferPointer { typeBytes in
                        page.append(type: typeBytes, data: statement.bytes(at: 3),
                                    schema: Int(statement.int64(at: 2)), version: statement.int64(at: 0))
                    }
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
                var rows = SQLiteEventRows(on: reader)
                return try rows.read(statement, capacity: min(limit, 4096))
            }
        }
    }

    /// The events appended with `commandID` (an idempotency key), in position order.
    public func events(forCommand commandID: String) throws -> [RecordedEvent] {
        try withReader { reader in
            try reader.withStatement(Self.commandEventsSQL) { statement in
                try statement.bind(commandID, at: 1)
                var rows = SQLiteEventRows(on: reader)
                // the command's events are consecutive: they end where another commit begins
                var first = true
                return try rows.read(statement, capacity: 4) { row in
                    defer { first = false }
                    return first || row.int64(at: 6) != 0 || (!row.isNull(at: 10) && row.string(at: 10) == commandID)
                }
            }
        }
    }

    /// The stream's current version (0 when it has no events).
    public func version(of stream: StreamID) throws -> Int64 {
        try withReader { reader in try Self.version(of: stream, on: reader) }
    }

    /// The stream's version as `connection` sees it (in its transaction, if one is open).
    static func version(of stream: StreamID, on connection: SQLiteConnection) throws -> Int64 {
        guard let id = try connection.interned.streamID(stream, on: connection) else { return 0 }
        return try connection.withStatement(maxVersionSQL) { statement in
            try statement.bind(id, at: 1)
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
}
