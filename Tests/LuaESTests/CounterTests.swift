@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

@Suite struct CounterTests {
    @Test func thirtyIncrementsPassAndTheThirtyFirstIsAFault() throws {
        let store = InMemoryEventStore()
        let engine = try loadExample("counter.lua", store: store)
        for i in 1...30 {
            let r = try engine.execute(aggregate: "Counter", key: "c1", command: "increment")
            #expect(r.version == Int64(i))
            #expect(r.events.map(\.type) == ["Incremented"])
            #expect(field(r.state, "count") as? Int == i)
        }
        let error = engineError { _ = try engine.execute(aggregate: "Counter", key: "c1", command: "increment") }
        #expect(error?.kind == .fault)
        #expect(error?.code == "limit_reached")
        #expect(error?.message == "counter is at its limit")
        #expect(try store.version(of: StreamID(aggregate: "Counter", key: "c1")) == 30)
        #expect(try engine.state(aggregate: "Counter", key: "c1").state == #"{"count":30}"#)
    }

    @Test func argumentsReachTheHandlerAndStateIsReadAtAnyVersion() throws {
        let engine = try loadExample("counter.lua")
        _ = try engine.execute(aggregate: "Counter", key: "c", command: "increment", args: #"{"by":5}"#)
        _ = try engine.execute(aggregate: "Counter", key: "c", command: "increment", args: #"{"by":2}"#)
        #expect(try engine.state(aggregate: "Counter", key: "c", at: 1).state == #"{"count":5}"#)
        #expect(try engine.state(aggregate: "Counter", key: "c").state == #"{"count":7}"#)
        #expect(engineError { _ = try engine.state(aggregate: "Counter", key: "c", at: 9) }?.code == "bad_version")
        let history = try engine.history(aggregate: "Counter", key: "c")
        #expect(history.map(\.data) == [#"{"by":5}"#, #"{"by":2}"#])
    }

    @Test func snapshotsAreWrittenAndUsed() throws {
        let store = InMemoryEventStore()
        let engine = try loadExample("counter.lua", store: store)
        for _ in 1...25 { _ = try engine.execute(aggregate: "Counter", key: "s", command: "increment") }
        let snap = try #require(try store.snapshot(of: StreamID(aggregate: "Counter", key: "s")))
        #expect(snap.version == 20)
        #expect(snap.state == #"{"count":20}"#)
        #expect(snap.fingerprint == engine.domain.aggregate(named: "Counter")?.fingerprint)
        let fresh = try loadExample("counter.lua", store: store)
        #expect(try fresh.state(aggregate: "Counter", key: "s").state == #"{"count":25}"#)
    }
}
