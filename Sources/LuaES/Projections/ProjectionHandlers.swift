import LuaESCore
import LuaESScripting
import LuaESStore

/// A projection's Lua handlers run over a page of the global feed (replay phase, in the
/// engine's Lua state), reading views as they ask. Confined to the engine's thread.
struct ProjectionHandlers {
    let engine: Engine

    init(_ engine: Engine) { self.engine = engine }

    /// Runs `events` (in position order) through `projection`, reading the views of
    /// `generation` in `views`, and returns the changes to commit with the page.
    /// Events no handler takes are not sent to Lua at all.
    /// - Throws: `EngineError` when a handler fails (nothing of the page is kept then); the
    ///   store's error when reading a view failed (the page can be tried again later).
    func project(_ projection: ProjectionInfo, generation: Int64, views: ProjectionStore,
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
            return try engine.host.project(name, rows: rows) { key in
                try views.viewDocument(projection: name, generation: generation, key: key)
            }.map { ViewChange(key: $0.key, document: $0.document) }
        } catch let error as ScriptError {
            throw EngineError(error)
        }
    }
}

extension Engine {
    /// The current projections of the loaded script (after a reload too).
    public var projections: [ProjectionInfo] { domain.projections }
}
