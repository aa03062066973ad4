import LuaESCore

/// One event as a row of `events` (schema version 3) is about to hold it: the parameters of
/// one row of the INSERT, all but the stream and the version.
///
/// The first row of a run (`MetaRun`), its head, has `ordinal` 0 and carries what the run's
/// events share: `meta` (the template's name id, the template inline as a BLOB, or for a
/// verbatim event the whole metadata as TEXT), `id` (the base of the event ids, followed by the
/// head's own id when it does not derive from the base), `request`,
/// `command_id` and `recorded_at`. The other rows have their ordinal and at most an event id
/// of their own: the head is the row at `position - ordinal`.
struct SQLiteStoredRow {
    enum Meta {
        case none
        case name(Int64)
        case inline([UInt8])
        case verbatim(String)
    }

    var type: Int64
    var schema: Int
    var data: String
    var ordinal: Int
    var meta: Meta
    var id: UUIDBits?
    /// A head's own event id, written after the base in `id` (32 bytes then).
    var headOwnID: UUIDBits?
    var request: String?
    var commandID: String?
    var recordedAt: Int64?

    /// The rows of `events`, with the names they need looked up or inserted on `writer`.
    static func rows(of events: [NewEvent], at now: Int64, on writer: SQLiteConnection) throws -> [SQLiteStoredRow] {
        var rows: [SQLiteStoredRow] = []
        rows.reserveCapacity(events.count)
        var lastType = "", lastTypeID: Int64 = 0
        var start = 0
        for run in MetaRun.runs(of: events[...], templates: writer.interned.templates) {
            for ordinal in 0..<run.count {
                let event = events[start + ordinal]
                if event.type != lastType || rows.isEmpty {
                    lastType = event.type
                    lastTypeID = try writer.interned.nameID(event.type, on: writer)
                }
                var row = SQLiteStoredRow(type: lastTypeID, schema: event.schema, data: event.data, ordinal: ordinal,
                                          meta: .none, id: nil, headOwnID: nil, request: nil, commandID: nil, recordedAt: nil)
                if let shared = run.shared {
                    if ordinal == 0 {
                        row.meta = try writer.interned.templateID(shared.template, on: writer).map(Meta.name)
                            ?? .inline(Array(shared.template.utf8))
                        row.id = shared.base
                        row.headOwnID = run.ownIDs[0]
                        row.request = shared.request
                        row.commandID = event.commandID
                        row.recordedAt = now
                    } else {
                        row.id = run.ownIDs[ordinal]
                    }
                } else {
                    row.meta = .verbatim(event.meta)
                    row.commandID = event.commandID
                    row.recordedAt = now
                }
                rows.append(row)
            }
            start += run.count
        }
        return rows
    }

    /// Binds the row's parameters, `version` first, from `first` on.
    func bind(to statement: SQLiteStatement, at first: Int32, version: Int64) throws {
        try statement.bind(version, at: first)
        try statement.bind(type, at: first + 1)
        try statement.bind(schema, at: first + 2)
        try statement.bind(data, at: first + 3)
        try statement.bind(ordinal, at: first + 4)
        switch meta {
        case .none: try statement.bind(nil as String?, at: first + 5)
        case .name(let id): try statement.bind(id, at: first + 5)
        case .inline(let bytes): try statement.bind(blob: bytes, at: first + 5)
        case .verbatim(let text): try statement.bind(text, at: first + 5)
        }
        try statement.bind(blob: id.map { $0.blob + (headOwnID?.blob ?? []) }, at: first + 6)
        try statement.bind(request, at: first + 7)
        try statement.bind(commandID, at: first + 8)
        if let recordedAt { try statement.bind(recordedAt, at: first + 9) } else { try statement.bind(nil as String?, at: first + 9) }
    }
}
