import LuaESCore

extension ReplayPage {
    public mutating func append(_ event: RecordedEvent) {
        append(type: event.type.utf8, data: event.data.utf8, schema: event.schema, version: event.version)
    }
}

extension EventStore {
    /// Fills `page` with up to `limit` events of `stream` after version `after` (and up to
    /// `upTo`). Stores with a faster path than `events(of:)` override `readReplayPage`.
    public func readReplayPage(_ page: inout ReplayPage, of stream: StreamID, after: Int64, upTo: Int64?, limit: Int) throws {
        page.removeAll()
        for event in try events(of: stream, after: after, upTo: upTo, limit: limit) { page.append(event) }
    }
}
