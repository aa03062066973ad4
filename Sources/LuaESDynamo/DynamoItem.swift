import Foundation
import LuaESCore
import LuaESStore

/// DynamoDB's typed JSON values (`{"S": "..."}`, `{"N": "12"}`) and reading them back.
enum DynamoValue {
    static func string(_ value: String) -> [String: Any] { ["S": value] }
    static func number(_ value: Int64) -> [String: Any] { ["N": String(value)] }
    static func number(_ value: Int) -> [String: Any] { ["N": String(value)] }
    static func key(_ p: String, _ s: Int64) -> [String: Any] { ["p": string(p), "s": number(s)] }
    static func binary(_ bytes: [UInt8]) -> [String: Any] { ["B": Data(bytes).base64EncodedString()] }
}

extension Dictionary where Key == String, Value == Any {
    func string(_ name: String) -> String? { (self[name] as? [String: Any])?["S"] as? String }
    /// A 16-byte binary (`B`, base64) as a UUID.
    func uuid(_ name: String) -> UUIDBits? {
        guard let text = (self[name] as? [String: Any])?["B"] as? String, let data = Data(base64Encoded: text) else { return nil }
        return Array(data).withUnsafeBufferPointer { UUIDBits(blob: $0) }
    }
    func int(_ name: String) -> Int64? { ((self[name] as? [String: Any])?["N"] as? String).flatMap { Int64($0) } }
    func list(_ name: String) -> [[String: Any]]? {
        ((self[name] as? [String: Any])?["L"] as? [Any])?.compactMap { ($0 as? [String: Any])?["M"] as? [String: Any] }
    }
}

/// The attributes a commit item and its feed copy share: the stream, the last version, the
/// tick and shard (hence the positions), the time and the events.
struct CommitItem {
    var stream: StreamID
    var lastVersion: Int64
    var tick: Int64
    var shard: Int
    var recordedAt: Int64
    var events: [NewEvent]

    /// Each event as `PackedEvent` keeps it: `m` verbatim metadata; the head of a run `mt`
    /// template, `mb` base (16-byte binary), `mr` request id; heads and followers `mi`, their own
    /// id when it does not derive from the base. Items written before runs have `m` and `c` on every event, which reads the same.
    var attributes: [String: Any] {
        let list: [Any] = PackedEvent.pack(events).map { event in
            var map: [String: Any] = ["y": DynamoValue.string(event.type), "v": DynamoValue.number(event.schema),
                                      "d": DynamoValue.string(event.data)]
            if let id = event.commandID { map["c"] = DynamoValue.string(id) }
            switch event.meta {
            case .verbatim(let meta):
                map["m"] = DynamoValue.string(meta)
            case .head(let shared, let own):
                map["mt"] = DynamoValue.string(shared.template)
                map["mb"] = DynamoValue.binary(shared.base.blob)
                if let request = shared.request { map["mr"] = DynamoValue.string(request) }
                if let own { map["mi"] = DynamoValue.binary(own.blob) }
            case .follower(let own):
                if let own { map["mi"] = DynamoValue.binary(own.blob) }
            }
            return ["M": map]
        }
        return ["a": DynamoValue.string(stream.aggregate), "k": DynamoValue.string(stream.key),
                "lv": DynamoValue.number(lastVersion), "t": DynamoValue.number(tick), "h": DynamoValue.number(shard),
                "at": DynamoValue.number(recordedAt), "ev": ["L": list]]
    }

    /// A rough upper bound of the item's size as DynamoDB counts it (names and values).
    static func estimatedBytes(_ stream: StreamID, _ events: [NewEvent]) -> Int {
        let perEvent = PackedEvent.pack(events).reduce(0) { sum, e in
            let meta: Int
            switch e.meta {
            case .verbatim(let text): meta = text.utf8.count
            case .head(let shared, _): meta = 60 + shared.template.utf8.count + (shared.request?.utf8.count ?? 0)
            case .follower: meta = 20
            }
            return sum + 40 + e.type.utf8.count + e.data.utf8.count + meta + (e.commandID?.utf8.count ?? 0)
        }
        return 200 + 2 * (stream.aggregate.utf8.count + stream.key.utf8.count) + perEvent
    }

    init(stream: StreamID, lastVersion: Int64, tick: Int64, shard: Int, recordedAt: Int64, events: [NewEvent]) {
        self.stream = stream
        self.lastVersion = lastVersion
        self.tick = tick
        self.shard = shard
        self.recordedAt = recordedAt
        self.events = events
    }

    /// Reads an item back; nil when it is not a commit item.
    init?(item: [String: Any]) {
        guard let aggregate = item.string("a"), let key = item.string("k"), let last = item.int("lv"),
              let tick = item.int("t"), let shard = item.int("h"), let at = item.int("at"), let list = item.list("ev") else {
            return nil
        }
        var packed: [PackedEvent] = []
        for map in list {
            guard let type = map.string("y"), let data = map.string("d") else { return nil }
            let meta: PackedEvent.Meta
            if let text = map.string("m") {
                meta = .verbatim(text)
            } else if let template = map.string("mt") {
                guard let base = map.uuid("mb") else { return nil }
                meta = .head(SharedMeta(template: template, base: base, request: map.string("mr")), map.uuid("mi"))
            } else {
                meta = .follower(map.uuid("mi"))
            }
            packed.append(PackedEvent(type: type, schema: Int(map.int("v") ?? 1), data: data, commandID: map.string("c"), meta: meta))
        }
        guard let events = PackedEvent.unpack(packed) else { return nil }
        self.init(stream: StreamID(aggregate: aggregate, key: key), lastVersion: last, tick: tick, shard: Int(shard),
                  recordedAt: at, events: events)
    }

    var recorded: [RecordedEvent] {
        let first = lastVersion - Int64(events.count) + 1
        return events.enumerated().map { index, event in
            RecordedEvent(position: DynamoLayout.position(tick: tick, shard: shard, index: index), stream: stream,
                          version: first + Int64(index), type: event.type, schema: event.schema, data: event.data,
                          meta: event.meta, recordedAt: recordedAt)
        }
    }
}
