import LuaESCore

/// The metadata of a run of consecutive events of one command, stored once instead of once
/// per event (ARCHITECTURE.md, "Storage footprint").
///
/// The engine writes every event's metadata as `{"event_id":"<id>",<members>}` with the same
/// members for all events of a command, in which the command id appears up to three times
/// (`command_id`, `correlation_id`, `causation_id`) and an HTTP request id twice. A run
/// keeps the members once as a template, with `"<command id>"` written as the byte 0x01 and
/// `"<request id>"` as 0x02, so that the template of one command and script version is the
/// same for every call and a store can keep it once; the values come from the run: the
/// idempotency key or the base's text, and `request`. Event ids are the base's
/// `event(ordinal)` (`UUIDBits`), unless an event carries another one (`MetaRun.ownIDs`).
///
/// Exactness: the metadata text read back is the text appended, byte for byte. The two
/// marker bytes cannot occur in the members (checked), so putting the values back where the
/// markers are undoes the replacement; `pack` checks that once per run before it is used.
public struct SharedMeta: Hashable, Sendable {
    /// The members with their markers.
    public var template: String
    /// The base of the run's event ids; also the command id when the run has no idempotency key.
    public var base: UUIDBits
    /// The text between the quotes of the request id that 0x02 stands for, when the template has it.
    public var request: String?

    public init(template: String, base: UUIDBits, request: String?) {
        self.template = template
        self.base = base
        self.request = request
    }

    /// The members with the values put back. `commandKey` is the run's idempotency key.
    public func members(commandKey: String?) -> String {
        String(decoding: memberBytes(commandKey: commandKey), as: UTF8.self)
    }

    func memberBytes(commandKey: String?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(template.utf8.count + 160)
        for byte in template.utf8 {
            switch byte {
            case Self.commandMarker:
                if let commandKey {
                    out.append(contentsOf: JSONText.quote(commandKey).utf8)
                } else {
                    out.append(UInt8(ascii: "\""))
                    out.append(contentsOf: base.text.utf8)
                    out.append(UInt8(ascii: "\""))
                }
            case Self.requestMarker:
                out.append(UInt8(ascii: "\""))
                out.append(contentsOf: (request ?? "").utf8)
                out.append(UInt8(ascii: "\""))
            default:
                out.append(byte)
            }
        }
        return out
    }

    /// The metadata text of the event with id `id` of this run, written in one pass into a string
    /// of its final size (once per event read: a reader's hot path).
    public func eventMeta(id: UUIDBits, commandKey: String?) -> String {
        var quotedKey = commandKey.map(JSONText.quote) ?? ""
        var template = self.template, request = self.request ?? ""
        return quotedKey.withUTF8 { key in
            request.withUTF8 { request in
                template.withUTF8 { template in
                    var total = Self.eventIDPrefix.count + 36 + 2 + 1
                    for byte in template {
                        switch byte {
                        case Self.commandMarker: total += commandKey == nil ? 38 : key.count
                        case Self.requestMarker: total += request.count + 2
                        default: total += 1
                        }
                    }
                    return String(unsafeUninitializedCapacity: total) { out in
                        var i = 0
                        func put(_ bytes: UnsafeBufferPointer<UInt8>) {
                            for byte in bytes { out[i] = byte; i += 1 }
                        }
                        Self.eventIDPrefix.withUnsafeBufferPointer(put)
                        id.write(into: out, at: i)
                        i += 36
                        out[i] = UInt8(ascii: "\""); out[i + 1] = UInt8(ascii: ","); i += 2
                        for byte in template {
                            switch byte {
                            case Self.commandMarker where commandKey == nil:
                                out[i] = UInt8(ascii: "\"")
                                base.write(into: out, at: i + 1)
                                out[i + 37] = UInt8(ascii: "\"")
                                i += 38
                            case Self.commandMarker:
                                put(key)
                            case Self.requestMarker:
                                out[i] = UInt8(ascii: "\""); i += 1
                                put(request)
                                out[i] = UInt8(ascii: "\""); i += 1
                            default:
                                out[i] = byte; i += 1
                            }
                        }
                        out[i] = UInt8(ascii: "}")
                        return i + 1
                    }
                }
            }
        }
    }

    /// `{"event_id":"<id>",<members>}`, written in one pass (once per event read or written).
    public static func eventMeta(id: UUIDBits, members: String) -> String {
        var members = members
        return members.withUTF8 { tail in
            let total = eventIDPrefix.count + 36 + 2 + tail.count + 1
            return String(unsafeUninitializedCapacity: total) { out in
                var i = 0
                for byte in eventIDPrefix { out[i] = byte; i += 1 }
                id.write(into: out, at: i)
                i += 36
                out[i] = UInt8(ascii: "\""); out[i + 1] = UInt8(ascii: ","); i += 2
                _ = UnsafeMutableBufferPointer(rebasing: out[i..<(i + tail.count)]).initialize(from: tail)
                out[total - 1] = UInt8(ascii: "}")
                return total
            }
        }
    }

    static let commandMarker: UInt8 = 0x01
    static let requestMarker: UInt8 = 0x02
    static let eventIDPrefix = Array("{\"event_id\":\"".utf8)
}

/// A run of consecutive events of an append, as a store keeps its metadata.
public struct MetaRun: Sendable, Equatable {
    /// How many events the run has.
    public var count: Int
    /// The run's shared metadata; nil when the first event's metadata does not have the engine's
    /// form: then the run is that one event, kept verbatim.
    public var shared: SharedMeta?
    /// For each event of a shared run, the first included: nil when its id is
    /// `shared.base.event(ordinal)`, else its id (events written before ids were derived).
    public var ownIDs: [UUIDBits?]

    /// Cuts `events` into runs: a run goes on while the events have the same members and
    /// idempotency key. `templates`, when given, are tried first and learn the new ones. A store
    /// that cannot keep an id of its own for a run's first event passes `headOwnIDs: false`: then a
    /// first id never differs from `shared.base.event(0)` (a command id the first id does not derive
    /// from stays in the template).
    public static func runs(of events: ArraySlice<NewEvent>, templates: MetaTemplates? = nil,
                            headOwnIDs: Bool = true) -> [MetaRun] {
        var runs: [MetaRun] = []
        var i = events.startIndex
        while i < events.endIndex {
            let run = MetaRunPacker.run(of: events[i...], templates: templates, headOwnIDs: headOwnIDs)
            runs.append(run)
            i += run.count
        }
        return runs
    }
}
