/// The script's store hooks seen from the engine: `on_append` metadata and `on_load` checks
/// (Sources/CLuaShim/prelude/hooks.lua). Both cost nothing when a script registers none.
extension Engine {
    /// Each event's metadata members from the on_append hooks (one JSON object a line),
    /// or nil when no hook ran.
    func hookMembers(_ value: LuaHost.Value, count: Int) -> [String]? {
        guard case .string(let text) = value, !text.isEmpty else { return nil }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == count else { return nil }
        // `{...}` -> the members, so eventMeta can put event_id first
        return lines.map { String($0.dropFirst().dropLast()) }
    }

    /// Runs the on_load hooks over a page about to be replayed.
    func checkLoaded(_ agg: AggregateInfo, _ stream: StreamID, page: ReplayPage) throws {
        guard agg.loadHooks > 0, page.count > 0 else { return }
        var items: [String] = []
        items.reserveCapacity(page.count)
        page.bytes.withUnsafeBufferPointer { bytes in
            for e in page.entries {
                let type = String(decoding: bytes[e.typeOffset..<(e.typeOffset + e.typeLength)], as: UTF8.self)
                let data = String(decoding: bytes[e.dataOffset..<(e.dataOffset + e.dataLength)], as: UTF8.self)
                items.append(Self.loadedItem(type: type, version: e.version, schema: e.schema, data: data))
            }
        }
        try runLoadHooks(agg, stream, JSONText.array(items))
    }

    /// Runs the on_load hooks over events read for a caller (history).
    func checkLoaded(_ agg: AggregateInfo, _ stream: StreamID, events: [RecordedEvent]) throws {
        guard agg.loadHooks > 0, !events.isEmpty else { return }
        let items = events.map { Self.loadedItem(type: $0.type, version: $0.version, schema: $0.schema, data: $0.data) }
        try runLoadHooks(agg, stream, JSONText.array(items))
    }

    private func runLoadHooks(_ agg: AggregateInfo, _ stream: StreamID, _ events: String) throws {
        _ = try host.invoke("on_load", phase: .replay, label: "on_load hook of \(agg.name)",
                            args: [.string(agg.name), .string(stream.key), .json(events)], results: [])
    }

    private static func loadedItem(type: String, version: Int64, schema: Int, data: String) -> String {
        JSONText.object([("type", JSONText.quote(type)), ("version", String(version)), ("schema", String(schema)), ("data", data)])
    }
}
