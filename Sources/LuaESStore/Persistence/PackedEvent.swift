import LuaESCore

/// An event as a store that keeps one document per append (MongoDB, DynamoDB) writes it: the
/// metadata of a run of one command's events (`MetaRun`) is kept by its first event, the head;
/// the others of the run follow it in the document and keep at most an id of their own.
public struct PackedEvent: Sendable, Equatable {
    public enum Meta: Sendable, Equatable {
        /// The event's metadata as given (a run of one).
        case verbatim(String)
        /// The first event of a run: what the run shares, and its id when it does not derive from the base.
        case head(SharedMeta, UUIDBits?)
        /// A later event of the run its last head began; its id when it does not derive from the base.
        case follower(UUIDBits?)
    }

    public var type: String
    public var schema: Int
    public var data: String
    /// The idempotency key: on verbatim events and heads only (followers share their head's).
    public var commandID: String?
    public var meta: Meta

    public init(type: String, schema: Int, data: String, commandID: String?, meta: Meta) {
        self.type = type
        self.schema = schema
        self.data = data
        self.commandID = commandID
        self.meta = meta
    }

    /// The events of one append, packed.
    public static func pack(_ events: [NewEvent]) -> [PackedEvent] {
        var packed: [PackedEvent] = []
        packed.reserveCapacity(events.count)
        var start = 0
        for run in MetaRun.runs(of: events[...]) {
            for ordinal in 0..<run.count {
                let event = events[start + ordinal]
                let meta: Meta
                if let shared = run.shared {
                    meta = ordinal == 0 ? .head(shared, run.ownIDs[0]) : .follower(run.ownIDs[ordinal])
                } else {
                    meta = .verbatim(event.meta)
                }
                packed.append(PackedEvent(type: event.type, schema: event.schema, data: event.data,
                                          commandID: ordinal == 0 ? event.commandID : nil, meta: meta))
            }
            start += run.count
        }
        return packed
    }

    /// The events back, metadata and keys as they were appended; nil when a follower has no head
    /// before it (a document not written by `pack`).
    public static func unpack(_ packed: [PackedEvent]) -> [NewEvent]? {
        var events: [NewEvent] = []
        events.reserveCapacity(packed.count)
        var head: (shared: SharedMeta, commandID: String?, index: Int)?
        for (index, event) in packed.enumerated() {
            let meta: String, commandID: String?
            switch event.meta {
            case .verbatim(let text):
                head = nil
                (meta, commandID) = (text, event.commandID)
            case .head(let shared, let own):
                head = (shared, event.commandID, index)
                (meta, commandID) = (shared.eventMeta(id: own ?? shared.base.event(0), commandKey: event.commandID), event.commandID)
            case .follower(let own):
                guard let run = head else { return nil }
                let id = own ?? run.shared.base.event(index - run.index)
                (meta, commandID) = (run.shared.eventMeta(id: id, commandKey: run.commandID), run.commandID)
            }
            events.append(NewEvent(type: event.type, schema: event.schema, data: event.data, meta: meta, commandID: commandID))
        }
        return events
    }
}
