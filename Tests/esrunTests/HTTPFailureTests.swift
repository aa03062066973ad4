import LuaES
@testable import LuaESServer
import Testing

/// How engine and store errors become HTTP statuses (DESIGN §6).
@Suite struct HTTPFailureTests {
    @Test func everyErrorHasItsStatus() {
        let cases: [(any Error, Int, String)] = [
            (EngineError(kind: .invalid, code: "unknown_aggregate", message: ""), 404, "unknown_aggregate"),
            (EngineError(kind: .invalid, code: "unknown_command", message: ""), 404, "unknown_command"),
            (EngineError(kind: .invalid, code: "bad_json", message: ""), 400, "bad_json"),
            (EngineError(kind: .fault, code: "limit_reached", message: ""), 422, "limit_reached"),
            (EngineError(kind: .conflict, code: "conflict", message: ""), 409, "conflict"),
            (EngineError(kind: .script, code: "error", message: ""), 500, "error"),
            (EngineError(kind: .limit, code: "time", message: ""), 500, "time"),
            (EngineError(kind: .limit, code: "shutting_down", message: ""), 503, "shutting_down"),
            (StoreError.conflict(StreamID(aggregate: "A", key: "k"), expected: 1, actual: 2), 409, "conflict"),
            (StoreError.refused("not on Sundays"), 422, "refused"),
            (StoreError.io("disk full"), 500, "store"),
        ]
        for (error, status, code) in cases {
            let failure = HTTPFailure(error)
            #expect(failure.status.code == status, "\(error)")
            #expect(failure.code == code, "\(error)")
        }
    }
}
