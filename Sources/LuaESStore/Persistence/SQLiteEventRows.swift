import CSQLite
import LuaESCore

/// Reads `RecordedEvent`s from rows of `events` (schema version 3, `SQLiteStoredRow`): puts
/// back the stream, the type and the metadata, remembering the head of the run it is in.
///
/// The statement's columns: position, stream, version, type, schema, data, ordinal, meta, id,
/// request, command_id, recorded_at (`columns`).
struct SQLiteEventRows {
    static let columns = "position, stream, version, type, schema, data, ordinal, meta, id, request, command_id, recorded_at"
    static let headSQL = "SELECT ordinal, meta, id, request, command_id, recorded_at FROM events WHERE position = ?1"

    /// The head of the run the last row belongs to.
    private struct Head {
        var position: Int64
        var recordedAt: Int64
        /// Verbatim metadata (a run of one), else the run's shared metadata.
        var verbatim: String?
        var shared: SharedMeta
        var commandKey: String?
        /// The head's own event id, when it does not derive from the base.
        var ownID: UUIDBits?
    }

    private let connection: SQLiteConnection
    private var head: Head?
    private var stream = StreamID(aggregate: "", key: "")
    private var streamID: Int64 = -1
    private var typeID: Int64 = -1
    private var type = ""

    init(on connection: SQLiteConnection) {
        self.connection = connection
    }

    /// Every row of `statement` (already bound), at most `limit`; `keepGoing` may stop earlier.
    mutating func read(_ statement: SQLiteStatement, capacity: Int,
                       while keepGoing: (SQLiteStatement) -> Bool = { _ in true }) throws -> [RecordedEvent] {
        var events: [RecordedEvent] = []
        events.reserveCapacity(capacity)
        while try statement.step(), keepGoing(statement) {
            events.append(try event(statement))
        }
        return events
    }

    /// The event of the statement's current row.
    mutating func event(_ statement: SQLiteStatement) throws -> RecordedEvent {
        let position = statement.int64(at: 0)
        let rowStream = statement.int64(at: 1)
        if rowStream != streamID {
            stream = try connection.interned.stream(rowStream, on: connection)
            streamID = rowStream
        }
        let rowType = statement.int64(at: 3)
        if rowType != typeID {
            type = try connection.interned.name(rowType, on: connection)
            typeID = rowType
        }
        let ordinal = statement.int64(at: 6)
        let head: Head
        if ordinal == 0 {
            head = try Self.head(position, statement, offset: 6, on: connection)
            self.head = head
        } else if let current = self.head, current.position == position - ordinal {
            head = current
        } else {
            head = try readHead(at: position - ordinal, for: position)
            self.head = head
        }
        let meta: String
        if let verbatim = head.verbatim {
            meta = verbatim
        } else {
            let own = ordinal == 0 ? head.ownID
                : statement.type(at: 8) == SQLITE_BLOB ? UUIDBits(blob: statement.blob(at: 8)) : nil
            meta = head.shared.eventMeta(id: own ?? head.shared.base.event(Int(ordinal)), commandKey: head.commandKey)
        }
        return RecordedEvent(position: position, stream: stream, version: statement.int64(at: 2), type: type,
                             schema: Int(statement.int64(at: 4)), data: statement.string(at: 5), meta: meta,
                             recordedAt: head.recordedAt)
    }

    private func readHead(at position: Int64, for follower: Int64) throws -> Head {
        let head = try connection.withStatement(Self.headSQL) { statement -> Head? in
            try statement.bind(position, at: 1)
            guard try statement.step(), statement.int64(at: 0) == 0 else { return nil }
            return try Self.head(position, statement, offset: 0, on: connection)
        }
        guard let head else {
            throw StoreError.io("\(connection.path): the event at position \(follower) has lost the first event of "
                + "its commit (position \(position)), which holds its metadata")
        }
        return head
    }

    /// A head from the columns ordinal, meta, id, request, command_id, recorded_at starting at `offset`.
    private static func head(_ position: Int64, _ statement: SQLiteStatement, offset: Int32,
                             on connection: SQLiteConnection) throws -> Head {
        let recordedAt = statement.int64(at: offset + 5)
        let metaColumn = offset + 1
        let template: String
        switch statement.type(at: metaColumn) {
        case SQLITE_TEXT:
            return Head(position: position, recordedAt: recordedAt, verbatim: statement.string(at: metaColumn),
                        shared: SharedMeta(template: "", base: UUIDBits(high: 0, low: 0), request: nil), commandKey: nil,
                        ownID: nil)
        case SQLITE_INTEGER:
            template = try connection.interned.name(statement.int64(at: metaColumn), on: connection)
        case SQLITE_BLOB:
            template = String(decoding: statement.blob(at: metaColumn), as: UTF8.self)
        default:
            throw StoreError.io("\(connection.path): the event at position \(position) has no metadata")
        }
        let ids = statement.blob(at: offset + 2)
        guard ids.count == 16 || ids.count == 32, let base = UUIDBits(blob: UnsafeBufferPointer(rebasing: ids[0..<16])) else {
            throw StoreError.io("\(connection.path): the event at position \(position) has no id base")
        }
        let ownID = ids.count == 32 ? UUIDBits(blob: UnsafeBufferPointer(rebasing: ids[16..<32])) : nil
        let request = statement.isNull(at: offset + 3) ? nil : statement.string(at: offset + 3)
        let commandKey = statement.isNull(at: offset + 4) ? nil : statement.string(at: offset + 4)
        return Head(position: position, recordedAt: recordedAt, verbatim: nil,
                    shared: SharedMeta(template: template, base: base, request: request), commandKey: commandKey,
                    ownID: ownID)
    }
}
