import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// Rebuilds on code changes, failures that stop one projection, and the Lua API's errors.
@Suite struct ProjectionLifecycleTests {
    static let ledger = """
        local Ledger = aggregate("Ledger", { initial = { total = 0 } })
        Ledger:event("Posted", { amount = "integer" })
        function Ledger.handle.post(state, cmd) return Ledger.Posted{ amount = cmd.amount } end
        function Ledger.replay.Posted(state, ev) state.total = state.total + ev.amount end

        """

    static func script(_ projections: String) -> String { ledger + projections }

    static let counting = script("""
        projection("Totals", {
          initial = { count = 0, sum = 0 },
          on = { Posted = function(view, ev, meta)
            view:update(meta.key, function(d) d.count = d.count + 1; d.sum = d.sum + ev.amount end)
          end },
        })
        """)

    static func post(_ engine: Engine, _ amounts: [Int], keys: Int = 3) throws {
        for (i, amount) in amounts.enumerated() {
            _ = try engine.execute(aggregate: "Ledger", key: "k\(i % keys)", command: "post", args: #"{"amount":\#(amount)}"#)
        }
    }

    static func document(_ store: ProjectionStore, _ name: String, _ key: String) throws -> [String: Any]? {
        guard let active = try store.projectionGenerations(named: name).first(where: \.isActive),
              let text = try store.viewDocument(projection: name, generation: active.generation, key: key) else { return nil }
        return parse(text) as? [String: Any]
    }

    @Test func aCodeChangeRebuildsBesideTheOldViewsAndSwitchesOnlyWhenCaughtUp() throws {
        let store = InMemoryEventStore()
        let v1 = try makeEngine(Self.counting, store: store)
        try Self.post(v1, Array(1...120))
        let p1 = try Projector(engine: v1, pageSize: 50)
        try p1.prepare()
        try p1.catchUp()
        #expect(try Self.document(store, "Totals", "k0")?["count"] as? Int == 40)

        // v2 counts double: a different fingerprint, so a new generation is built beside the first
        let v2 = try makeEngine(Self.counting.replacingOccurrences(of: "d.count + 1", with: "d.count + 2"), store: store)
        #expect(v2.projections[0].fingerprint != v1.projections[0].fingerprint)
        let p2 = try Projector(engine: v2, pageSize: 50)
        try p2.prepare()
        #expect(try store.projectionGenerations(named: "Totals").map(\.isActive) == [true, false])
        #expect(try p2.pass())
        var status = try ProjectionStatus.all(domain: v2.domain, store: store)[0]
        #expect(status.state == .rebuilding)
        #expect(status.building?.position == 50)
        #expect(try Self.document(store, "Totals", "k0")?["count"] as? Int == 40, "the old generation still answers")

        try Self.post(v1, [1000, 1000, 1000]) // commits keep coming during the rebuild
        #expect(try p2.pass())
        #expect(try Self.document(store, "Totals", "k0")?["count"] as? Int == 40)
        try p2.catchUp()
        status = try ProjectionStatus.all(domain: v2.domain, store: store)[0]
        #expect(status.state == .live)
        #expect(status.active?.generation == 2 && status.building == nil)
        #expect(try Self.document(store, "Totals", "k0")?["count"] as? Int == 82)
        #expect(try Self.document(store, "Totals", "k0")?["sum"] as? Int == (1...120).filter { $0 % 3 == 1 }.reduce(0, +) + 1000)
        #expect(try store.projectionGenerations(named: "Totals").map(\.generation) == [2], "the old generation is deleted")
    }

    @Test func withLeasesOneRunnerBuildsAProjectionAndAnotherTakesOver() throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine(Self.counting, store: store)
        try Self.post(engine, Array(1...30))
        let first = try Projector(engine: try makeEngine(Self.counting, store: store), pageSize: 10)
        let second = try Projector(engine: try makeEngine(Self.counting, store: store), pageSize: 10)
        first.lease = ("first", 30)
        second.lease = ("second", 30)
        try first.prepare()
        try second.prepare()
        #expect(try first.pass())
        #expect(try !second.pass(), "the second runner does not hold the lease: it does nothing")
        #expect(try store.projectionGenerations(named: "Totals").first?.position == 10)
        try first.releaseLeases()   // a clean stop
        try second.catchUp()
        #expect(try store.projectionGenerations(named: "Totals").first?.position == 30)
        #expect(try !first.pass(), "the lease moved to the second runner")
        #expect(try Self.document(store, "Totals", "k0")?["count"] as? Int == 10)
    }

    @Test func aRequestedRebuildIsBlueGreenAndADroppedProjectionIsGone() throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine(Self.counting, store: store)
        try Self.post(engine, Array(1...30))
        let projector = try Projector(engine: engine, pageSize: 10)
        try projector.prepare()
        try projector.catchUp()
        let rebuilt = try projector.rebuild("Totals")
        #expect(rebuilt.generation == 2 && !rebuilt.isActive)
        #expect(try projector.pass())
        #expect(try store.projectionGenerations(named: "Totals").first(where: \.isActive)?.generation == 1,
                "the old views answer while the rebuild runs")
        try projector.catchUp()
        #expect(try store.projectionGenerations(named: "Totals").map(\.generation) == [2])
        #expect(try Self.document(store, "Totals", "k0")?["count"] as? Int == 10)
        #expect(engineError { _ = try projector.drop("Totals") }?.code == "projection_in_script")
        #expect(engineError { _ = try projector.rebuild("Nope") }?.code == "unknown_projection")

        let without = try Projector(engine: try makeEngine(Self.ledger, store: store))
        let dropped = try without.drop("Totals")
        #expect(dropped.generations == 1 && dropped.documents == 3)
        #expect(try store.projectionGenerations(named: "Totals").isEmpty)
    }

    @Test func anUnrelatedChangeKeepsTheFingerprint() throws {
        let a = try makeEngine(Self.counting)
        let b = try makeEngine(Self.counting.replacingOccurrences(of: "return Ledger.Posted{ amount = cmd.amount }",
                                                                  with: "return Ledger.Posted{ amount = cmd.amount * 1 }"))
        #expect(a.projections[0].fingerprint == b.projections[0].fingerprint)
        #expect(a.projections[0].events == ["Ledger.Posted"])
    }

    @Test func aFailingProjectionStopsAloneReportsTheEventAndResumesAfterAFix() throws {
        let failing = Self.script("""
            projection("Picky", { on = { Posted = function(view, ev, meta)
              if ev.amount == 13 then error("thirteen is unlucky") end
              view:update("all", function(d) d = d or { n = 0 }; d.n = d.n + 1; return d end)
            end } })
            projection("Count", { on = { Posted = function(view, ev) view:update("all", function(d) d = d or { n = 0 }; d.n = d.n + 1; return d end) end } })
            """)
        let store = InMemoryEventStore()
        let engine = try makeEngine(failing, store: store)
        try Self.post(engine, Array(1...40))
        let projector = try Projector(engine: engine, pageSize: 16)
        try projector.prepare()
        try projector.catchUp()
        let statuses = try ProjectionStatus.all(domain: engine.domain, store: store)
        let picky = try #require(statuses.first { $0.name == "Picky" })
        #expect(picky.state == .failed)
        #expect(picky.active?.position == 12, "events before the failing one are committed")
        let failure = try #require(parse(picky.failure ?? "") as? [String: Any])
        #expect(failure["position"] as? Int == 13)
        #expect(failure["type"] as? String == "Posted")
        let error = failure["error"] as? [String: Any]
        #expect((error?["message"] as? String)?.contains("domain.lua:") == true)
        #expect((error?["message"] as? String)?.contains("thirteen is unlucky") == true)
        #expect(try Self.document(store, "Picky", "all")?["n"] as? Int == 12)
        #expect(statuses.first { $0.name == "Count" }?.state == .live, "the other projection went on")
        #expect(try Self.document(store, "Count", "all")?["n"] as? Int == 40)

        // the same code again retries (and fails again at the same event)
        try projector.prepare()
        try projector.catchUp()
        #expect(try ProjectionStatus.all(domain: engine.domain, store: store).first { $0.name == "Picky" }?.state == .failed)

        // fixed code: a new generation, built from the start, then live
        let fixed = try makeEngine(failing.replacingOccurrences(of: "error(\"thirteen is unlucky\")", with: "return"), store: store)
        let resumed = try Projector(engine: fixed, pageSize: 16)
        try resumed.prepare()
        try resumed.catchUp()
        let after = try ProjectionStatus.all(domain: fixed.domain, store: store).first { $0.name == "Picky" }
        #expect(after?.state == .live)
        #expect(after?.failure == nil)
        #expect(try Self.document(store, "Picky", "all")?["n"] as? Int == 39)
    }

    @Test(arguments: [
        ("while true do end", "limit"),
        ("local t = {} while true do t[#t + 1] = string.rep('x', 1000) end", "limit"),
        ("local ok = pcall(function() while true do end end) while true do end", "limit"),
    ])
    func runawayHandlersHitTheReplayLimitsAndStopOnlyTheirEvent(_ body: String, _ kind: String) throws {
        var options = EngineOptions()
        options.limits.replay.timeMilliseconds = 200
        options.limits.replay.memoryBytes = 16 << 20
        let engine = try makeEngine(Self.script("""
            projection("Runaway", { on = { Posted = function(view, ev)
              if ev.amount == 3 then \(body) end
              view:update("n", function(d) d = d or { n = 0 }; d.n = d.n + 1; return d end)
            end } })
            """), options: options)
        try Self.post(engine, [1, 2, 3, 4])
        let projector = try Projector(engine: engine, pageSize: 10)
        try projector.prepare()
        try projector.catchUp()
        let status = try #require(try ProjectionStatus.all(domain: engine.domain, store: projector.views).first)
        #expect(status.state == .failed)
        #expect(status.failure?.contains("\"kind\":\"\(kind)\"") == true, "\(status.failure ?? "")")
        #expect(status.active?.position == 2, "the two events before it are committed")
        #expect(try Self.document(projector.views, "Runaway", "n")?["n"] as? Int == 2)
        // the engine still works afterwards
        _ = try engine.execute(aggregate: "Ledger", key: "x", command: "post", args: #"{"amount":9}"#)
    }

    @Test func handlersRunInTheReplaySandbox() throws {
        let engine = try makeEngine(Self.script("""
            projection("Clock", { on = { Posted = function(view) view:put("t", { t = os.time() }) end } })
            """))
        _ = try engine.execute(aggregate: "Ledger", key: "a", command: "post", args: #"{"amount":1}"#)
        let projector = try Projector(engine: engine)
        try projector.prepare()
        try projector.catchUp()
        let failure = try #require(try ProjectionStatus.all(domain: engine.domain, store: projector.views).first?.failure)
        #expect(failure.contains("forbidden"))
        #expect(failure.contains("os.time is not available"))
    }

    @Test(arguments: [
        ("projection(\"Bad Name\", {})", "bad_name"),
        ("projection(\"P\", { on = { posted = function() end } })", "bad_event_name"),
        ("projection(\"P\", { on = { Posted = 1 } })", "bad_handler"),
        ("projection(\"P\", { every = 1 })", "bad_option"),
        ("projection(\"P\", {}); projection(\"P\", {})", "duplicate_projection"),
        ("projection(\"P\", { initial = 3 })", "bad_option"),
    ])
    func badDefinitionsAreRefusedAtLoad(_ source: String, _ code: String) throws {
        let error = engineError { _ = try makeEngine(Self.script(source)) }
        #expect(error?.code.rawValue == code, "\(source): \(String(describing: error))")
    }

    @Test func handlersThatKeepStateAreWarnedAbout() throws {
        let engine = try makeEngine(Self.script("""
            local seen = {}
            projection("Leaky", { on = { Posted = function(view, ev, meta) seen[meta.key] = true end } })
            """))
        #expect(engine.projections[0].warnings.count == 1)
        #expect(engine.projections[0].warnings.first?.contains("captures the table 'seen'") == true)
        #expect(try makeEngine(Self.counting).projections[0].warnings.isEmpty)
    }

    @Test func eventTypesDeclaredAfterTheProjectionAreMatched() throws {
        let engine = try makeEngine(Self.script("""
            projection("Late", { on = { Later = function(view, ev) view:put("x", ev) end } })
            local P = projection("Early", { on = { Posted = function() end } })
            """))
        #expect(engine.projections.first { $0.name == "Late" }?.unknownEvents == ["Later"])
        let dir = temporaryDirectory()
        let driver = dir.appendingPathComponent("driver.lua").path
        try "local L = aggregate('Later', {}) L:event('Later', {}) function L.replay.Later() end".write(
            toFile: driver, atomically: true, encoding: .utf8)
        try engine.run(script: driver)
        let late = engine.projections.first { $0.name == "Late" }
        #expect(late?.unknownEvents == [])
        #expect(late?.events == ["Later.Later"])
    }

    @Test func anUndeclaredEventTypeIsAConsistencyProblem() throws {
        let engine = try makeEngine(Self.script("projection(\"P\", { on = { Postd = function() end, [\"Nope.Posted\"] = function() end } })"))
        #expect(engine.domain.consistencyProblems.contains { $0.contains("Postd") })
        #expect(engine.domain.consistencyProblems.contains { $0.contains("Nope.Posted") })
    }

    @Test(arguments: [
        ("view:put(\"\", {})", "bad_view_key"),
        ("view:put({}, {})", "bad_view_key"),
        ("view:put(\"a\\0b\", {})", "bad_view_key"),
        ("view:put(\"k\", nil)", "bad_document"),
        ("view:put(\"k\", { f = function() end })", "bad_document"),
        ("view.x = 1", "read_only"),
        ("view.put(\"k\", {})", "bad_call"),
        ("view:update(\"k\", function() end)", "bad_document"),
    ])
    func badViewCallsStopTheProjectionWithAClearError(_ body: String, _ code: String) throws {
        let engine = try makeEngine(Self.script("projection(\"P\", { on = { Posted = function(view, ev, meta) \(body) end } })"))
        _ = try engine.execute(aggregate: "Ledger", key: "a", command: "post", args: #"{"amount":1}"#)
        let projector = try Projector(engine: engine)
        try projector.prepare()
        try projector.catchUp()
        let status = try #require(try ProjectionStatus.all(domain: engine.domain, store: projector.views).first)
        #expect(status.state == .failed)
        #expect(status.failure?.contains("\"code\":\"\(code)\"") == true, "\(body): \(status.failure ?? "")")
        #expect(status.active?.position == 0, "nothing of the failing event is kept")
    }

    @Test func aViewKeptPastItsHandlerIsClosed() throws {
        let engine = try makeEngine(Self.script("""
            local kept
            projection("P", { on = { Posted = function(view, ev)
              if kept then kept:put("late", {}) end
              kept = view
            end } })
            """))
        // in one page: the second handler finds the first one's view closed (page size does not matter)
        _ = try engine.execute(aggregate: "Ledger", key: "a", command: "post", args: #"{"amount":1}"#)
        _ = try engine.execute(aggregate: "Ledger", key: "a", command: "post", args: #"{"amount":2}"#)
        let projector = try Projector(engine: engine)
        try projector.prepare()
        try projector.catchUp()
        let status = try #require(try ProjectionStatus.all(domain: engine.domain, store: projector.views).first)
        #expect(status.failure?.contains("view_closed") == true)
    }

    @Test func renamedAndOldSchemaEventsReachTheHandlerUpcast() throws {
        let store = InMemoryEventStore()
        let key = StreamID(aggregate: "Ledger", key: "a")
        try store.append([NewEvent(type: "Booked", schema: 1, data: #"{"cents":5}"#)], to: key, expectedVersion: 0)
        let engine = try makeEngine("""
            local Ledger = aggregate("Ledger", {})
            Ledger:event("Posted", { amount = "integer" }, { version = 2, renamed_from = "Booked",
              upcast = { [1] = function(e) return { amount = e.cents } end } })
            function Ledger.replay.Posted(state, ev) end
            projection("Sum", { on = { ["Ledger.Posted"] = function(view, ev, meta)
              view:update("sum", function(d) d = d or { s = 0, types = {} }; d.s = d.s + ev.amount
                d.types[#d.types + 1] = meta.type .. "/" .. meta.stored_type; return d end)
            end } })
            """, store: store)
        try store.append([NewEvent(type: "Posted", schema: 2, data: #"{"amount":7}"#)], to: key, expectedVersion: 1)
        let projector = try Projector(engine: engine)
        try projector.prepare()
        try projector.catchUp()
        let doc = try #require(try Self.document(store, "Sum", "sum"))
        #expect(doc["s"] as? Int == 12)
        #expect(doc["types"] as? [String] == ["Posted/Booked", "Posted/Posted"])
    }
}
