import LuaESCore
@testable import LuaESStore

/// Metadata as the engine writes it (`Engine+meta.swift`): `{"event_id":…,"command":…,…}`, the ids
/// derived from one base per command.
struct EngineMetaCommand {
    var command = "deposit"
    var base = UUIDBits(high: 0x1234_5678_9abc_4def, low: 0x8123_4567_89ab_cdef)
    var key: String? = nil
    var requestID: String? = nil
    /// Members the caller or hooks add, written after the engine's.
    var extra = ""
    var fingerprint = "f0e1d2c3b4a5968778695a4b3c2d1e0f"

    var members: String {
        let commandID = key.map(JSONText.quote) ?? "\"\(base.text)\""
        var out = "\"command\":\(JSONText.quote(command)),\"script_version\":\"\(fingerprint)\",\"command_id\":\(commandID)"
        if let requestID {
            out += ",\"correlation_id\":\"\(requestID)\",\"causation_id\":\(commandID),\"request_id\":\"\(requestID)\""
        } else {
            out += ",\"correlation_id\":\(commandID),\"causation_id\":\(commandID)"
        }
        return extra.isEmpty ? out : out + "," + extra
    }

    func meta(_ ordinal: Int) -> String {
        SharedMeta.eventMeta(id: base.event(ordinal), members: members)
    }

    func events(_ count: Int, type: String = "Deposited") -> [NewEvent] {
        (0..<count).map { NewEvent(type: type, data: #"{"n":\#($0)}"#, meta: meta($0), commandID: key) }
    }

    /// A fresh base for the next command (deterministic, distinct).
    static func base(_ n: UInt64) -> UUIDBits {
        UUIDBits(high: (0x0a1b_2c3d_4e5f_4000 ^ (n << 16)) & ~0xF000 | 0x4000, low: 0x9000_0000_0000_0000 | n)
    }
}

/// Appends of many metadata shapes: what every store must read back byte for byte.
func metadataShapes() -> [(String, [NewEvent])] {
    var keyed = EngineMetaCommand(base: EngineMetaCommand.base(2), key: "order-7 \"quoted\" ü")
    keyed.command = "place"
    let withRequest = EngineMetaCommand(base: EngineMetaCommand.base(3), requestID: "5f1e0c2a9b3d4e6f0000000000000001")
    let withUser = EngineMetaCommand(base: EngineMetaCommand.base(4), extra: #""user":"ann","tags":["a","b"],"n":1.5"#)
    // hooks gave every event members of its own: one run per event
    let hooked = (0..<3).map { i in
        let command = EngineMetaCommand(base: EngineMetaCommand.base(5), extra: "\"seq\":\(i)")
        return NewEvent(type: "Hooked", data: "{}", meta: command.meta(i))
    }
    // ids that do not derive from one base (written before ids were derived)
    let random = (0..<3).map { i in
        NewEvent(type: "Old", data: "{}", meta: SharedMeta.eventMeta(id: EngineMetaCommand.base(UInt64(100 + i * 7)),
                                                                        members: EngineMetaCommand(base: .init(high: 1, low: 2)).members))
    }
    // the same text as a template, but composed differently (é as e + U+0301): bytes must survive
    let composed = EngineMetaCommand(base: EngineMetaCommand.base(6), extra: "\"name\":\"caf\u{E9}\"")
    let decomposed = EngineMetaCommand(base: EngineMetaCommand.base(6), extra: "\"name\":\"cafe\u{301}\"")
    let mixed = [composed.events(1)[0], NewEvent(type: "Deposited", data: "{}", meta: decomposed.meta(1))]
    return [
        ("one command, one event", EngineMetaCommand().events(1)),
        ("one command, five events", EngineMetaCommand(base: EngineMetaCommand.base(1)).events(5)),
        ("an idempotency key with quotes", keyed.events(3)),
        ("an HTTP request id", withRequest.events(2)),
        ("caller metadata", withUser.events(2)),
        ("hooks' metadata per event", hooked),
        ("random event ids", random),
        ("canonically equal members", mixed),
        ("not the engine's form", [NewEvent(type: "Imported", data: "{}", meta: "{}"),
                                   NewEvent(type: "Imported", data: "{}", meta: #"{"event_id":"X","a":1}"#),
                                   NewEvent(type: "Imported", data: "{}", meta: "{\"event_id\":\"\(UUIDBits(high: 1, low: 2).text)\",\"m\":\"\u{1}\"}"),
                                   NewEvent(type: "Imported", data: "{}", meta: " {\"event_id\":1} ")]),
    ]
}
