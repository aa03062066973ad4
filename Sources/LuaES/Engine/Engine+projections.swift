import LuaESCore
import LuaESScripting
import LuaESStore

/// Projections seen from the engine: running a page of the global feed through one
/// projection's Lua handlers (replay phase), reading views as they ask.
extension Engine {
    /// Runs `events` (in position order) through `projection`, reading the views of
    /// `generation` in `views`, and returns the changes to commit with the page.
    /// Events no handler takes are not sent to Lua at all.
    /// - Throws: `EngineError` when a handler fails (nothing of the page is kept then); the
    ///   store's error when reading a view failed (the page can be tried again later).
    public func project(_ projection: ProjectionInfo, generation: Int64, views: ProjectionStore,
                        events: [RecordedEvent]) throws -> [ViewChange] {
        // "Aggregate.Type" names grouped by aggregate, so the filter allocates nothing per event
        var wanted: [String: Set<String>] = [:]
        for name in projection.events {
            guard let dot = name.firstIndex(of: ".") else { continue }
            wanted[String(name[..<dot]), default: []].insert(String(name[name.index(after: dot)...]))
        }
        var rows = FeedRows(capacity: events.count)
        for e in events where wanted[e.stream.aggregate]?.contains(e.type) == true {
            rows.append(position: e.position, aggregate: e.stream.aggregate, key: e.stream.key, version: e.version,
                        type: e.type, schema: e.schema, recordedAt: e.recordedAt, data: e.data, meta: e.meta)
        }
        guard rows.count > 0 else { return [] }
        let name = projection.name
        do {
            return try host.project(name, rows: rows) { key in
                try views.viewDocument(projection: name, generation: generation, key: key)
            }.map { ViewChange(key: $0.key, document: $0.document) }
        } catch let error as ScriptError {
            throw EngineError(error)
        }
    }

    /// The current projections of the loaded script (after a reload too).
    public var projections: [ProjectionInfo] { domain.projections }
}
