import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// Where an `EventPublisher` hands committed events. `publish` returns only once the
/// events are delivered (written, acknowledged); a throw means "not delivered, try again".
/// Events may arrive more than once (after a crash): consumers de-duplicate by
/// `event_id` (or by `position`).
public protocol EventSink: Sendable {
    /// Delivers `events` (in position order) or throws.
    func publish(_ events: [RecordedEvent]) throws
}

extension RecordedEvent {
    /// The event as one NDJSON line (without the newline): the stored record plus its
    /// `event_id` at the top level when its metadata has one.
    public var publishedJSON: String {
        var members: [(String, String)] = []
        if let id = eventID { members.append(("event_id", JSONText.quote(id))) }
        members += [
            ("position", String(position)), ("aggregate", JSONText.quote(stream.aggregate)), ("key", JSONText.quote(stream.key)),
            ("version", String(version)), ("type", JSONText.quote(type)), ("schema", String(schema)),
            ("data", data), ("meta", meta), ("recorded_at", String(recordedAt)),
        ]
        return JSONText.object(members)
    }

    /// The `event_id` of the metadata the engine stores (nil for events written without it).
    public var eventID: String? {
        guard meta.contains("\"event_id\""),
              let object = try? JSONSerialization.jsonObject(with: Data(meta.utf8)) as? [String: Any] else { return nil }
        return object["event_id"] as? String
    }
}
