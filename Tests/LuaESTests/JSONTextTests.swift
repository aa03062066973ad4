import Testing
@testable import LuaES

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

    @Test func eventMetaMergesCallerMembersAfterTheCommand() throws {
        let engine = try Engine(store: InMemoryEventStore())
        #expect(engine.eventMeta(command: "go", extra: nil) == #"{"command":"go"}"#)
        #expect(engine.eventMeta(command: "go", extra: "  {\"user\":\"ada\"}\n") == #"{"command":"go","user":"ada"}"#)
        #expect(engine.eventMeta(command: "go", extra: "{ }") == #"{"command":"go"}"#)
    }
}
