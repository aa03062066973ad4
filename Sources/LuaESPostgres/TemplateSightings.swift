import Foundation
import PostgresNIO

/// The metadata templates this store has appended, and the ids of those that went into
/// `templates`: a template goes there (and heads refer to it by id) from the second time it
/// is met, so one unique to a single command (metadata with a value of its own) stays inline
/// on its head row and costs no index entry. The id is looked up once per node
/// (`PostgresEventStore.resolveTemplates`), so an append sends it and the procedure neither
/// inserts nor searches templates.
/// `@unchecked Sendable`: every dictionary and set is read and written only under `lock`.
final class TemplateSightings: @unchecked Sendable {
    /// How a head's template travels in the next append.
    enum Sighting: Equatable {
        /// Inline on the head row: met once, or met again with its id not yet looked up.
        case inline
        case named(Int64)
    }

    private let lock = NSLock()
    private var seen: Set<String> = []
    private var ids: [String: Int64] = [:]
    private var wanted: Set<String> = []
    private let limit: Int

    init(limit: Int = 4096) {
        self.limit = limit
    }

    /// How `template` travels now; remembers the sighting (and that it needs an id, the
    /// second time).
    func sighting(_ template: String) -> Sighting {
        lock.withLock {
            if let id = ids[template] { return .named(id) }
            guard template.utf8.count <= PostgresEventColumns.longestNamedTemplate else { return .inline }
            if seen.remove(template) != nil || wanted.contains(template) {
                if wanted.count < limit { wanted.insert(template) }
                return .inline
            }
            if seen.count >= limit { seen.removeAll(keepingCapacity: true) }
            seen.insert(template)
            return .inline
        }
    }

    /// The templates met twice whose ids are not known yet.
    var unresolved: [String] {
        lock.withLock { Array(wanted) }
    }

    /// Records the ids of templates looked up in `templates`.
    func resolved(_ found: [String: Int64]) {
        lock.withLock {
            if ids.count + found.count > limit { ids.removeAll(keepingCapacity: true) }
            for (template, id) in found {
                ids[template] = id
                wanted.remove(template)
            }
        }
    }
}

extension TemplateSightings {
    /// Inserts `wanted` into `table` where missing and records the ids of all of them; one
    /// node's insert waits for another's of the same template, so both read the same id.
    func lookUp(_ wanted: [String], in table: String, on connection: PostgresConnection, logger: Logger) async throws {
        var binds = PostgresBindings()
        binds.append(wanted.map { ByteBuffer(string: $0) })
        try await connection.query(PostgresQuery(unsafeSQL: PostgresEventColumns.insertTemplatesSQL(templates: table),
                                                 binds: binds), logger: logger)
        var found: [String: Int64] = [:]
        let rows = try await connection.query(PostgresQuery(unsafeSQL: PostgresEventColumns.selectTemplatesSQL(templates: table),
                                                            binds: binds), logger: logger)
        for try await (id, template) in rows.decode((Int64, ByteBuffer).self) {
            found[String(buffer: template)] = id
        }
        resolved(found)
    }
}
