import LuaESCore
import LuaESScripting
import LuaESStore

/// The script's `on_load` checks seen from the engine (Sources/CLuaShim/prelude/hooks.lua). They cost nothing when a
/// script registers none.
extension Engine {
    /// Runs the on_load hooks over a page about to be replayed.
    func checkLoaded(_ agg: AggregateInfo, _ stream: StreamID, page: ReplayPage) throws {
        guard agg.loadHooks > 0, page.count > 0 else { return }
        var items: [LoadedEvent] = []
        items.reserveCapacity(page.count)
        page.bytes.withUnsafeBufferPointer { bytes in
            for e in page.entries {
                items.append(LoadedEvent(
                    type: String(decoding: bytes[e.typeOffset..<(e.typeOffset + e.typeLength)], as: UTF8.self),
                    version: e.version, schema: e.schema,
                    data: String(decoding: bytes[e.dataOffset..<(e.dataOffset + e.dataLength)], as: UTF8.self)))
            }
        }
        try asEngineError { () throws(ScriptError) in try host.checkLoaded(aggregate: agg.name, key: stream.key, events: items) }
    }

    /// Runs the on_load hooks over events read for a caller (history).
    func checkLoaded(_ agg: AggregateInfo, _ stream: StreamID, events: [RecordedEvent]) throws {
        guard agg.loadHooks > 0, !events.isEmpty else { return }
        let items = events.map { LoadedEvent(type: $0.type, version: $0.version, schema: $0.schema, data: $0.data) }
        try asEngineError { () throws(ScriptError) in try host.checkLoaded(aggregate: agg.name, key: stream.key, events: items) }
    }
}
