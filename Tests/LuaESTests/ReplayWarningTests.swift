@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// `esrun check`'s warnings about replay code that can carry state from one replay to the next.
@Suite struct ReplayWarningTests {
    func warnings(_ source: String) throws -> [String] {
        try makeEngine(source).domain.aggregates.flatMap(\.warnings)
    }

    @Test func theExamplesHaveNone() throws {
        for name in ["counter.lua", "bank.lua", "orders.lua"] {
            let engine = try loadExample(name)
            #expect(engine.domain.aggregates.allSatisfy { $0.warnings.isEmpty }, "\(name): \(engine.domain.aggregates.map(\.warnings))")
        }
    }

    @Test func capturedModuleTablesAreNamed() throws {
        let w = try warnings("""
            local A = aggregate("A", { initial = function() return { n = 0 } end })
            A:event("E", {})
            local seen = {}
            local LIMITS = { max = 3 }
            function A.replay.E(state, ev)
              seen[#seen + 1] = ev
              state.n = math.min(#seen, LIMITS.max)
              state.s = string.upper("x") .. table.concat({}) .. tostring(A)
            end
            """)
        #expect(w.count == 2, "\(w)")
        #expect(w.contains { $0.hasPrefix("replay of A.E (domain.lua:5) captures the table 'seen'") })
        #expect(w.contains { $0.contains("captures the table 'LIMITS'") })
    }

    @Test func assignedUpvaluesAreNamedAlsoThroughHelpers() throws {
        let w = try warnings("""
            local A = aggregate("A", { initial = function() calls = 0; return {} end })
            A:event("E", {})
            A:event("F", {})
            local count, last = 0, nil
            local function remember(x) last = x end
            function A.replay.E(state, ev) count = count + 1; state.n = count end
            function A.replay.F(state, ev) remember(ev) end
            """)
        #expect(w.contains("replay of A.E (domain.lua:6) assigns to the upvalue 'count': its value carries over from one replay to the next"), "\(w)")
        #expect(w.contains { $0.hasPrefix("replay of A.F, through function 'remember' (domain.lua:5), assigns to the upvalue 'last'") }, "\(w)")
        #expect(w.count == 2)
    }

    @Test func initialAndUpcastersAreChecked() throws {
        let w = try warnings("""
            local shared = { items = {} }
            local A = aggregate("A", { initial = function() return shared end })
            local n = 0
            A:event("E", {}, { version = 2, upcast = { [1] = function(d) n = n + 1; return d end } })
            function A.replay.E(state, ev) end
            """)
        #expect(w.contains { $0.hasPrefix("initial of A (domain.lua:2) captures the table 'shared'") }, "\(w)")
        #expect(w.contains { $0.hasPrefix("upcaster of A.E from version 1 (domain.lua:4) assigns to the upvalue 'n'") }, "\(w)")
    }

    @Test func readingConstantsIsFine() throws {
        let w = try warnings("""
            local A = aggregate("A", {})
            A:event("E", {})
            local LIMIT, NAME = 30, "a"
            local insert = table.insert
            function A.replay.E(state, ev) state.n = math.min((state.n or 0) + 1, LIMIT); state.name = NAME end
            """)
        #expect(w == [])
    }
}
