import LuaESStore

/// The documents of a MongoDB store (see `MongoEventStore` for why they are so).
///
/// `commits` holds three kinds of documents, all under its two unique indexes,
/// `stream_version` on (a, k, f) and `feed_position` on p:
/// - a *commit*: one append, `{_id, a, k, f, l, p, t, e: [{y, s, d, c?, …meta}]}`: aggregate, key,
///   first and last version, feed sequence number, time (ms), the events (type, schema,
///   data, command id, metadata as `PackedEvent` keeps it: `m` verbatim; the head of a run `mt`
///   template, `mb` base (16-byte binary), `mr` request id; heads and followers `mi`, their own
///   id, when it does not derive from the base). Documents written before runs have `m` and `c` on every event, which reads the same.
///   `_id` is the append's first command id, else an ObjectId;
/// - a *gap fill* at a feed sequence number no commit took: `{_id: ObjectId, a: "", k: "\u{1}gap", f: p, l: p, p}`;
/// - a *claim* of a further command id of an append with several: `{_id: ID, a: "", k: "\u{1}claim", f: -n, l: -n, p: -n, cs: seq}`.
/// Gap fills and claims have the empty aggregate, which no append may use, and values of
/// f and p of their own, so they never collide with commits on those indexes but where meant.
///
/// `counters` holds `{_id: "feed", n}`, the last sequence number handed out;
/// `snapshots` one document a stream (`MongoSnapshotStore`).
enum MongoLayout {
    static let commits = "commits"
    static let counters = "counters"
    static let snapshots = "snapshots"
    static let gapKey = "\u{1}gap"
    static let claimKey = "\u{1}claim"

    /// An event's position: its commit's sequence number × 2^20 + its index in the commit.
    static let indexBits: Int64 = 20
    static let maxEventsPerAppend = Int(1 << indexBits)
    /// MongoDB's limit on one document (`maxBsonObjectSize`).
    static let maxDocumentBytes = 16 * 1024 * 1024

    static func position(sequence: Int64, index: Int) -> Int64 { sequence << indexBits | Int64(index) }
    static func sequence(of position: Int64) -> Int64 { position >> indexBits }

    static func streamFilter(_ stream: StreamID) -> BSONDocument {
        BSONDocument {
            $0.append("a", stream.aggregate)
            $0.append("k", stream.key)
        }
    }

    /// The commit document of `events` appended to `stream` after `expectedVersion`.
    static func commit(id: String?, stream: StreamID, expectedVersion: Int64, sequence: Int64, recordedAt: Int64,
                       events: [BSONDocument]) -> BSONDocument {
        BSONDocument {
            if let id { $0.append("_id", id) } else { $0.appendObjectID("_id") }
            $0.append("a", stream.aggregate)
            $0.append("k", stream.key)
            $0.append("f", expectedVersion + 1)
            $0.append("l", expectedVersion + Int64(events.count))
            $0.append("p", sequence)
            $0.append("t", recordedAt)
            $0.append("e", array: events)
        }
    }

    static func event(_ event: PackedEvent) -> BSONDocument {
        BSONDocument {
            $0.append("y", event.type)
            $0.append("s", Int64(event.schema))
            $0.append("d", event.data)
            if let id = event.commandID { $0.append("c", id) }
            switch event.meta {
            case .verbatim(let meta):
                $0.append("m", meta)
            case .head(let shared, let own):
                $0.append("mt", shared.template)
                $0.append("mb", binary: shared.base.blob)
                if let request = shared.request { $0.append("mr", request) }
                if let own { $0.append("mi", binary: own.blob) }
            case .follower(let own):
                if let own { $0.append("mi", binary: own.blob) }
            }
        }
    }

    /// An event document read back; nil when it is not one of ours.
    static func packedEvent(_ e: BSONFields) -> PackedEvent? {
        guard let type = e["y"]?.string, let data = e["d"]?.string else { return nil }
        let meta: PackedEvent.Meta
        if let text = e["m"]?.string {
            meta = .verbatim(text)
        } else if let template = e["mt"]?.string {
            guard let base = e["mb"]?.uuid else { return nil }
            meta = .head(SharedMeta(template: template, base: base, request: e["mr"]?.string), e["mi"]?.uuid)
        } else {
            meta = .follower(e["mi"]?.uuid)
        }
        return PackedEvent(type: type, schema: Int(e["s"]?.int ?? 1), data: data, commandID: e["c"]?.string, meta: meta)
    }

    static func gapFill(sequence: Int64) -> BSONDocument {
        BSONDocument {
            $0.appendObjectID("_id")
            $0.append("a", "")
            $0.append("k", gapKey)
            $0.append("f", sequence)
            $0.append("l", sequence)
            $0.append("p", sequence)
        }
    }

    static func claim(id: String, sequence: Int64, index: Int) -> BSONDocument {
        let unique = -position(sequence: sequence, index: index) - 1
        return BSONDocument {
            $0.append("_id", id)
            $0.append("a", "")
            $0.append("k", claimKey)
            $0.append("f", unique)
            $0.append("l", unique)
            $0.append("p", unique)
            $0.append("cs", sequence)
        }
    }
}

/// A commit document read back.
struct CommitDocument {
    let stream: StreamID
    let first: Int64
    let sequence: Int64
    let recordedAt: Int64
    /// The events with their command ids.
    let events: [(RecordedEvent, commandID: String?)]

    /// Nil for a gap fill or a claim (no events), or a document that is not esrun's.
    init?(_ document: BSONFields) {
        guard let a = document["a"]?.string, !a.isEmpty, let k = document["k"]?.string,
              let first = document["f"]?.int, let sequence = document["p"]?.int,
              let list = document["e"]?.array else { return nil }
        let stream = StreamID(aggregate: a, key: k)
        let recordedAt = document["t"]?.int ?? 0
        var packed: [PackedEvent] = []
        packed.reserveCapacity(list.count)
        for element in list {
            guard let e = element.document, let event = MongoLayout.packedEvent(e) else { return nil }
            packed.append(event)
        }
        guard let unpacked = PackedEvent.unpack(packed) else { return nil }
        let events = unpacked.enumerated().map { index, event in
            (RecordedEvent(position: MongoLayout.position(sequence: sequence, index: index), stream: stream,
                           version: first + Int64(index), type: event.type, schema: event.schema,
                           data: event.data, meta: event.meta, recordedAt: recordedAt), event.commandID)
        }
        self.stream = stream
        self.first = first
        self.sequence = sequence
        self.recordedAt = recordedAt
        self.events = events
    }

    var recorded: [RecordedEvent] { events.map(\.0) }
}
