import LuaESStore
import PostgresNIO

/// Schema version 5: compact events (ARCHITECTURE.md, "Storage footprint").
///
/// A row keeps what is its own; the first row of a run of one command's events (its head,
/// `ordinal` 0) keeps what the run shares (`PostgresEventColumns`): the template of the
/// members (`head_meta` inline, or `template`, the id of its row in `templates`, once met
/// twice by a node), the base of the event ids (`id`, a uuid), the request id, the command
/// id and `recorded_at`. A follower keeps its ordinal and, rarely, an id of its own (`id`);
/// its head is the row at `position - ordinal` (a run's rows are inserted by one statement
/// inside the append lock, so their positions are consecutive). An event whose metadata is
/// not of the engine's form is a head with no `id`, its metadata verbatim in `head_meta`.
/// Columns are ordered so that fixed-width ones need no padding.
///
/// The upgrade from 4 rewrites the table in Swift (`upgradeToCompactEvents`), in the
/// migration's transaction: a new table, every event copied with its position, xid and
/// fields, then the old table dropped. A node of an earlier build still running meanwhile:
/// its appends and reads wait for the upgrade's lock on `events`, then fail (its procedure
/// `append_events` is dropped; the new table has no `meta` column, which its reads select),
/// loudly and without writing; restarted with this build it goes on. It cannot read the new
/// rows wrongly, and a new build refuses nothing an old one wrote.
extension PostgresEventStore {
    static func compactEventsSQL(in schema: String) -> [String] {
        [
            "LOCK TABLE \(schema).events IN ACCESS EXCLUSIVE MODE",
            "DROP PROCEDURE IF EXISTS \(schema).append_events",
            """
            CREATE TABLE \(schema).templates (
                id          integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                template    bytea   NOT NULL UNIQUE
            )
            """,
            """
            CREATE TABLE \(schema).compact_events (
                position    bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                version     bigint  NOT NULL,
                recorded_at bigint,
                xid         xid8    NOT NULL DEFAULT pg_current_xact_id(),
                schema      integer NOT NULL,
                ordinal     integer NOT NULL,
                template    integer,
                id          uuid,
                aggregate   text    NOT NULL,
                "key"       text    NOT NULL,
                type        text    NOT NULL,
                data        bytea   NOT NULL,
                head_meta   bytea,
                request     text,
                command_id  text,
                UNIQUE (aggregate, "key", version)
            )
            """,
        ]
    }

    /// After the copy; positions go on after the old table's (its sequence included).
    static func finishCompactEventsSQL(in schema: String, nextPosition: Int64) -> [String] {
        [
            "DROP TABLE \(schema).events",
            "ALTER TABLE \(schema).compact_events RENAME TO events",
            "ALTER TABLE \(schema).events RENAME CONSTRAINT compact_events_pkey TO events_pkey",
            "ALTER TABLE \(schema).events RENAME CONSTRAINT compact_events_aggregate_key_version_key TO events_aggregate_key_version_key",
            "ALTER SEQUENCE \(schema).compact_events_position_seq RENAME TO events_position_seq",
            "ALTER TABLE \(schema).events ALTER COLUMN position RESTART WITH \(nextPosition)",
            "CREATE INDEX events_command_id_idx ON \(schema).events (command_id) WHERE command_id IS NOT NULL",
            appendProcedure(in: schema),
        ]
    }

    /// Version 4 to 5 on `connection`, in its transaction (`compactEventsSQL`).
    static func upgradeToCompactEvents(in schema: String, on connection: PostgresConnection, logger: Logger) async throws {
        for statement in compactEventsSQL(in: schema) {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
        var copier = CompactEventCopier(schema: schema, connection: connection, logger: logger)
        try await copier.copyAll()
        var next: Int64 = 1
        let rows = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT greatest(coalesce(max(position), 0),
                            coalesce(pg_sequence_last_value(pg_get_serial_sequence('\(schema).events', 'position')), 0)) + 1
            FROM \(schema).events
            """), logger: logger)
        for try await value in rows.decode(Int64.self) { next = value }
        for statement in finishCompactEventsSQL(in: schema, nextPosition: next) {
            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
        }
    }
}

/// Copies the rows of a version-4 `events` table into `compact_events`, in position order:
/// consecutive positions of one stream with one `recorded_at` were one append, so they are
/// packed together (`MetaRun`), as an append of this build would have stored them. Rows are
/// written a few thousand per statement, whatever the size of the appends they came from.
struct CompactEventCopier {
    private typealias OldRow = (position: Int64, stream: StreamID, version: Int64, recordedAt: Int64, xid: String)

    let schema: String
    let connection: PostgresConnection
    let logger: Logger
    private let templates = TemplateSightings()
    /// The old append being read.
    private var group: [NewEvent] = []
    private var groupRows: [OldRow] = []
    /// Packed and waiting for the next INSERT.
    private var pending = PostgresEventColumns()
    private var pendingRows: [OldRow] = []

    init(schema: String, connection: PostgresConnection, logger: Logger) {
        self.schema = schema
        self.connection = connection
        self.logger = logger
    }

    static let pageSize: Int64 = 4096

    mutating func copyAll() async throws {
        var last: Int64 = 0
        while true {
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT position, aggregate, "key", version, type, schema, data, meta, recorded_at, command_id, xid::text
                FROM \(schema).events WHERE position > \(last) ORDER BY position LIMIT \(Self.pageSize)
                """), logger: logger)
            // the whole page first: the connection runs one query at a time
            var page: [(Int64, String, String, Int64, String, Int, ByteBuffer, ByteBuffer, Int64, String?, String)] = []
            for try await row in rows.decode((Int64, String, String, Int64, String, Int, ByteBuffer, ByteBuffer, Int64, String?,
                                              String).self) {
                page.append(row)
            }
            for (position, aggregate, key, version, type, eventSchema, data, meta, recordedAt, commandID, xid) in page {
                let stream = StreamID(aggregate: aggregate, key: key)
                if let previous = groupRows.last, !(previous.stream == stream && previous.recordedAt == recordedAt
                    && previous.position + 1 == position && previous.version + 1 == version) || groupRows.count >= 4096 {
                    try await endGroup()
                }
                group.append(NewEvent(type: type, schema: eventSchema, data: String(buffer: data), meta: String(buffer: meta),
                                      commandID: commandID))
                groupRows.append((position, stream, version, recordedAt, xid))
                last = position
            }
            if pendingRows.count >= 4096 { try await write() }
            if page.count < Self.pageSize { break }
        }
        try await endGroup()
        try await write()
    }

    private mutating func endGroup() async throws {
        let wanted = templates.unresolved
        if !wanted.isEmpty {
            try await templates.lookUp(wanted, in: schema + ".templates", on: connection, logger: logger)
        }
        pending.append(group, sighting: templates.sighting)
        pendingRows += groupRows
        group.removeAll(keepingCapacity: true)
        groupRows.removeAll(keepingCapacity: true)
    }

    /// Inserts the pending rows with their positions, streams, versions, times and xids.
    private mutating func write() async throws {
        guard !pendingRows.isEmpty else { return }
        let events = schema + ".compact_events"
        let columns = pending
        let rows = pendingRows
        let query: PostgresQuery = """
            INSERT INTO \(unescaped: events) (position, xid, aggregate, "key", version, recorded_at,
                \(unescaped: PostgresEventColumns.targetColumns))
            OVERRIDING SYSTEM VALUE
            SELECT u.position, u.xid::xid8, u.aggregate, u."key", u.version, CASE WHEN u.kind >= 2 THEN u.recorded_at END,
                   \(unescaped: PostgresEventColumns.selectList)
            FROM unnest(\(rows.map(\.position))::int8[], \(rows.map(\.xid))::text[], \(rows.map(\.stream.aggregate))::text[],
                        \(rows.map(\.stream.key))::text[], \(rows.map(\.version))::int8[], \(rows.map(\.recordedAt))::int8[],
                        \(columns.types)::text[], \(columns.schemas)::int8[], \(columns.data)::bytea[],
                        \(columns.ordinals)::int8[], \(columns.kinds)::int8[], \(columns.metas)::bytea[], \(columns.ids)::uuid[],
                        \(columns.templateIDs)::int8[], \(columns.requests)::text[], \(columns.commandIDs)::text[], \(columns.hasCommand)::bool[])
                 AS u(position, xid, aggregate, "key", version, recorded_at, \(unescaped: PostgresEventColumns.unnestColumns))
            """
        try await connection.query(query, logger: logger)
        pending = PostgresEventColumns()
        pendingRows.removeAll(keepingCapacity: true)
    }
}
