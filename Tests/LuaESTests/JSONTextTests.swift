@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// The hand-written JSON helpers the engine and the server build responses and metadata with.
@Suite struct JSONTextTests {
    @Test func quoteEscapesOnlyWhatJSONNeeds() {
        #expect(JSONText.quote("Counter") == #""Counter""#)
        #expect(JSONText.quote("é ü 😀") == "\"é ü 😀\"")
        #expect(JSONText.quote("a\"b\\c\nd\te\u{1}\u{7F}") == #""a\"b\\c\nd\te\u0001\u007f""#)
    }

    @Test func trimmedDropsJSONWhitespaceOnly() {
        #expect(JSONText.trimmed(" \t\r\n{\"a\":1} \n") == #"{"a":1}"#)
        #expect(JSONText.trimmed("   ") == "")
        #expect(JSONText.trimmed("\u{A0}x\u{A0}") == "\u{A0}x\u{A0}")
    }

    @Test func callerMetadataIsMergedWhateverItsWhitespace() throws {
        let engine = try loadExample("counter.lua")
        let padded = try engine.execute(aggregate: "Counter", key: "m", command: "increment", meta: "  {\"user\":\"ada\"}\n")
        #expect(field(padded.events[0].meta, "user") as? String == "ada")
        #expect(field(padded.events[0].meta, "command") as? String == "increment")
        let empty = try engine.execute(aggregate: "Counter", key: "m", command: "increment", meta: "{ }")
        #expect((parse(empty.events[0].meta) as? [String: Any])?.keys.sorted()
                == ["causation_id", "command", "command_id", "correlation_id", "event_id", "script_version"])
    }
}
