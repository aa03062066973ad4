import Foundation
import LuaESCore
import LuaESStore
import PostgresNIO

/// The per-event arrays that the append procedure (and the 4 -> 5 upgrade) turn into rows of
/// `events` (schema version 5, `+compactSchema`): what each event keeps of its own, and on the
/// first event of each run of one command's events (`MetaRun`, the head) what the run shares.
///
/// NULLs do not travel in these arrays, so `kinds` says which values mean something:
/// a follower with a derived id (`derived`) or an id of its own in `ids` (`ownID`); a head
/// whose base is in `ids` and whose template is inline in `metas` (`inlineHead`) or the row
/// of `templates` named in `templateIDs` (`namedHead`, its id known to the client:
/// `TemplateSightings`); an event kept verbatim, its metadata in `metas` (`verbatim`). `requests` is "" for none (a template without the request marker ignores it).
struct PostgresEventColumns {
    enum Kind: Int64 {
        case derived = 0, ownID = 1, inlineHead = 2, namedHead = 3, verbatim = 4
    }

    var types: [String] = []
    var schemas: [Int64] = []
    var data: [ByteBuffer] = []
    var ordinals: [Int64] = []
    var kinds: [Int64] = []
    var metas: [ByteBuffer] = []
    var ids: [UUID] = []
    var templateIDs: [Int64] = []
    var requests: [String] = []
    var commandIDs: [String] = []
    var hasCommand: [Bool] = []

    /// The longest template kept by id: longer ones stay inline (a btree entry has a size limit).
    static let longestNamedTemplate = 1024
    static let noID = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// Appends the rows of one batch's `events`; `sighting` says how a head's template travels.
    mutating func append(_ events: [NewEvent], sighting: (String) -> TemplateSightings.Sighting) {
        var start = 0
        for run in MetaRun.runs(of: events[...], headOwnIDs: false) {
            for ordinal in 0..<run.count {
                let event = events[start + ordinal]
                types.append(event.type)
                schemas.append(Int64(event.schema))
                data.append(ByteBuffer(string: event.data))
                ordinals.append(Int64(ordinal))
                commandIDs.append(event.commandID ?? "")
                hasCommand.append(event.commandID != nil)
                var (kind, meta, id, request, templateID) = (Kind.derived, "", Self.noID, "", Int64(0))
                if let shared = run.shared {
                    if ordinal == 0 {
                        (kind, id, request) = (.inlineHead, shared.base.uuid, shared.request ?? "")
                        if case .named(let known) = sighting(shared.template) {
                            (kind, templateID) = (.namedHead, known)
                        } else {
                            meta = shared.template
                        }
                    } else if let own = run.ownIDs[ordinal] {
                        (kind, id) = (.ownID, own.uuid)
                    }
                } else {
                    (kind, meta) = (.verbatim, event.meta)
                }
                kinds.append(kind.rawValue)
                metas.append(ByteBuffer(string: meta))
                ids.append(id)
                templateIDs.append(templateID)
                requests.append(request)
            }
            start += run.count
        }
    }

    /// The column values of a row of `events` from `u` (a row of the arrays' unnest), as a
    /// select list in the order of `targetColumns`, after the stream and the version.
    static let selectList = """
        u.type, u.schema, u.data, u.ordinal,
        CASE WHEN u.kind IN (2, 4) THEN u.meta END,
        CASE WHEN u.kind = 3 THEN u.template END,
        CASE WHEN u.kind IN (1, 2, 3) THEN u.id END,
        CASE WHEN u.kind IN (2, 3) THEN nullif(u.request, '') END,
        CASE WHEN u.kind >= 2 AND u.has_command THEN u.command_id END
        """
    static let targetColumns = "type, schema, data, ordinal, head_meta, template, id, request, command_id"
    /// The unnest's column names, in the order of the procedure's arrays.
    static let unnestColumns = "type, schema, data, ordinal, kind, meta, id, template, request, command_id, has_command"

    /// Inserts the templates of `$1` (a bytea[]) that `templates` lacks; then
    /// `selectTemplatesSQL` reads their ids (committed, or waited for, by then).
    static func insertTemplatesSQL(templates: String) -> String {
        "INSERT INTO \(templates) (template) SELECT DISTINCT unnest($1::bytea[]) ON CONFLICT DO NOTHING"
    }

    static func selectTemplatesSQL(templates: String) -> String {
        "SELECT id::int8, template FROM \(templates) WHERE template = ANY ($1::bytea[])"
    }
}

extension UUIDBits {
    var uuid: UUID {
        let b = blob
        return UUID(uuid: (b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]))
    }

    init(_ uuid: UUID) {
        let u = uuid.uuid
        let bytes = [u.0, u.1, u.2, u.3, u.4, u.5, u.6, u.7, u.8, u.9, u.10, u.11, u.12, u.13, u.14, u.15]
        var high: UInt64 = 0, low: UInt64 = 0
        for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
        for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
        self.init(high: high, low: low)
    }
}
