import Foundation
import LuaESCore
import LuaESStore
import PostgresNIO

/// Reads `RecordedEvent`s from rows of `events` (schema version 5, `+compactSchema`): puts
/// back each event's metadata and recorded time from the head of its run, remembering the
/// last head; a follower whose head is not among the rows read (a read that starts inside a
/// run) has it fetched on the same connection.
struct PostgresEventRows {
    /// The select list every read of events uses (`Row`'s fields, in order), over `from`.
    static let columns = """
        e.position, e.aggregate, e."key", e.version, e.type, e.schema, e.data, e.ordinal,
        coalesce(e.head_meta, t.template), e.id, e.request, e.command_id, e.recorded_at
        """
    typealias Columns = (Int64, String, String, Int64, String, Int, ByteBuffer, Int, ByteBuffer?, UUID?, String?, String?, Int64?)

    static func from(schema: String) -> String {
        "\(schema).events AS e LEFT JOIN \(schema).templates AS t ON t.id = e.template"
    }

    /// One row as read.
    struct Row {
        var position: Int64
        var stream: StreamID
        var version: Int64
        var type: String
        var schema: Int
        var data: ByteBuffer
        var ordinal: Int
        var meta: ByteBuffer?
        var id: UUID?
        var request: String?
        var commandID: String?
        var recordedAt: Int64?

        init(_ c: Columns) {
            (position, version, type, schema, data, ordinal) = (c.0, c.3, c.4, c.5, c.6, c.7)
            stream = StreamID(aggregate: c.1, key: c.2)
            (meta, id, request, commandID, recordedAt) = (c.8, c.9, c.10, c.11, c.12)
        }
    }

    /// What the events of a run share.
    private struct Head {
        var position: Int64
        var recordedAt: Int64
        /// Verbatim metadata (a run of one), else the run's members with their values put back.
        var verbatim: String?
        var members: String
        var base: UUIDBits
    }

    private let schema: String
    private let connection: PostgresConnection
    private let logger: Logger
    private var head: Head?

    init(schema: String, on connection: PostgresConnection, logger: Logger) {
        self.schema = schema
        self.connection = connection
        self.logger = logger
    }

    /// The event of `row`.
    mutating func event(_ row: Row) async throws -> RecordedEvent {
        let head: Head
        if row.ordinal == 0 {
            head = try Self.head(row.position, meta: row.meta, id: row.id, request: row.request, commandKey: row.commandID,
                                 recordedAt: row.recordedAt)
            self.head = head
        } else if let current = self.head, current.position == row.position - Int64(row.ordinal) {
            head = current
        } else {
            head = try await readHead(at: row.position - Int64(row.ordinal), for: row.position)
            self.head = head
        }
        let meta: String
        if let verbatim = head.verbatim {
            meta = verbatim
        } else {
            let own = row.ordinal != 0 ? row.id.map(UUIDBits.init) : nil
            meta = SharedMeta.eventMeta(id: own ?? head.base.event(row.ordinal), members: head.members)
        }
        return RecordedEvent(position: row.position, stream: row.stream, version: row.version, type: row.type,
                             schema: row.schema, data: String(buffer: row.data), meta: meta, recordedAt: head.recordedAt)
    }

    private func readHead(at position: Int64, for follower: Int64) async throws -> Head {
        let rows = try await connection.query("""
            SELECT e.ordinal, coalesce(e.head_meta, t.template), e.id, e.request, e.command_id, e.recorded_at
            FROM \(unescaped: Self.from(schema: schema)) WHERE e.position = \(position)
            """, logger: logger)
        for try await (ordinal, meta, id, request, commandKey, recordedAt)
            in rows.decode((Int, ByteBuffer?, UUID?, String?, String?, Int64?).self) where ordinal == 0 {
            return try Self.head(position, meta: meta, id: id, request: request, commandKey: commandKey, recordedAt: recordedAt)
        }
        throw StoreError.io("PostgreSQL: the event at position \(follower) has lost the first event of its commit "
            + "(position \(position)), which holds its metadata")
    }

    /// A head's shared metadata: with no `id`, `meta` is an event's metadata verbatim.
    private static func head(_ position: Int64, meta: ByteBuffer?, id: UUID?, request: String?, commandKey: String?,
                             recordedAt: Int64?) throws -> Head {
        guard let meta, let recordedAt else {
            throw StoreError.io("PostgreSQL: the event at position \(position) has no metadata or no recorded time")
        }
        guard let id else {
            return Head(position: position, recordedAt: recordedAt, verbatim: String(buffer: meta), members: "",
                        base: UUIDBits(high: 0, low: 0))
        }
        let base = UUIDBits(id)
        let members = SharedMeta(template: String(buffer: meta), base: base, request: request).members(commandKey: commandKey)
        return Head(position: position, recordedAt: recordedAt, verbatim: nil, members: members, base: base)
    }
}
