/// Schema version 3: compact events (ARCHITECTURE.md, "Storage footprint").
extension SQLiteEventStore {
    /// Streams and names (event types, metadata templates) by integer id; events refer to them.
    /// A row keeps what is its own; the first row of a run of one command's events (its head,
    /// `ordinal` 0) keeps what they share (`SQLiteStoredRow`). `meta` has no declared type: it
    /// holds an INTEGER, a BLOB or TEXT.
    static let compactEventsSQL = """
        CREATE TABLE streams (
            id          INTEGER PRIMARY KEY,
            aggregate   TEXT    NOT NULL,
            "key"       TEXT    NOT NULL,
            UNIQUE (aggregate, "key")
        );
        CREATE TABLE names (
            id          INTEGER PRIMARY KEY,
            text        TEXT    NOT NULL UNIQUE
        );
        CREATE TABLE compact_events (
            position    INTEGER PRIMARY KEY,
            stream      INTEGER NOT NULL,
            version     INTEGER NOT NULL,
            type        INTEGER NOT NULL,
            schema      INTEGER NOT NULL,
            data        TEXT    NOT NULL,
            ordinal     INTEGER NOT NULL,
            meta,
            id          BLOB,
            request     TEXT,
            command_id  TEXT,
            recorded_at INTEGER,
            UNIQUE (stream, version)
        );
        """

    static let finishCompactEventsSQL = """
        DROP TABLE events;
        ALTER TABLE compact_events RENAME TO events;
        CREATE INDEX events_command ON events (command_id) WHERE command_id IS NOT NULL;
        """

    static let oldEventsSQL = """
        SELECT position, aggregate, "key", version, type, schema, data, meta, recorded_at, command_id
        FROM events ORDER BY position
        """
    static let copyEventSQL = """
        INSERT INTO compact_events (position, stream, version, type, schema, data, ordinal, meta, id, request,
        command_id, recorded_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
        """

    /// Version 2 to 3, in the caller's transaction: every event is copied into the compact table
    /// with its position, and its metadata shared with the events of its command where it can be
    /// (events of one append: consecutive positions of one stream with one recorded time). Every
    /// field reads back as before.
    static func upgradeToCompactEvents(on connection: SQLiteConnection) throws {
        try connection.execute(compactEventsSQL)
        try connection.execute(#"INSERT INTO streams (aggregate, "key") SELECT DISTINCT aggregate, "key" FROM events"#)
        var group: [NewEvent] = []
        var groupStream = StreamID(aggregate: "", key: "")
        var groupStart: (position: Int64, version: Int64, recordedAt: Int64) = (0, 0, 0)
        func flush() throws {
            guard !group.isEmpty else { return }
            let streamID = try connection.interned.streamID(groupStream, on: connection)!
            let rows = try SQLiteStoredRow.rows(of: group, at: groupStart.recordedAt, on: connection)
            try connection.withStatement(copyEventSQL) { statement in
                for (offset, row) in rows.enumerated() {
                    try statement.bind(groupStart.position + Int64(offset), at: 1)
                    try statement.bind(streamID, at: 2)
                    try row.bind(to: statement, at: 3, version: groupStart.version + Int64(offset))
                    _ = try statement.step()
                    statement.reset()
                }
            }
            group.removeAll(keepingCapacity: true)
        }
        try connection.withStatement(oldEventsSQL) { old in
            var aggregate = "", key = "", type = ""
            while try old.step() {
                let position = old.int64(at: 0), version = old.int64(at: 3), recordedAt = old.int64(at: 8)
                let rowAggregate = old.string(at: 1, reusing: &aggregate), rowKey = old.string(at: 2, reusing: &key)
                let continues = !group.isEmpty && rowAggregate == groupStream.aggregate && rowKey == groupStream.key
                    && recordedAt == groupStart.recordedAt && position == groupStart.position + Int64(group.count)
                    && version == groupStart.version + Int64(group.count)
                if !continues {
                    try flush()
                    groupStream = StreamID(aggregate: rowAggregate, key: rowKey)
                    groupStart = (position, version, recordedAt)
                }
                group.append(NewEvent(type: old.string(at: 4, reusing: &type), schema: Int(old.int64(at: 5)),
                                      data: old.string(at: 6), meta: old.string(at: 7),
                                      commandID: old.isNull(at: 9) ? nil : old.string(at: 9)))
                if group.count >= 4096 { try flush() }
            }
            try flush()
        }
        try connection.execute(finishCompactEventsSQL)
    }
}
