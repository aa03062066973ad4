import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// The input rules themselves, and that the Lua side (view keys) keeps the same key rule.
@Suite struct InputRulesTests {
    static let keys: [(String, Bool)] = [
        ("k", true), ("ünïcödé ✓", true), (String(repeating: "x", count: 512), true), ("a b", true),
        ("", false), (String(repeating: "x", count: 513), false), ("a\u{0}b", false), ("a\tb", false),
        ("a\nb", false), ("a\u{7F}b", false), ("a\u{FFFD}b", false), (String(repeating: "é", count: 257), false),
    ]

    @Test func keysFollowOneRuleInSwiftAndInLua() throws {
        let engine = try makeEngine("""
            local A = aggregate('A')
            A:event('E', { key = 'string' })
            function A.handle.e(state, cmd) return A.E{ key = cmd.key } end
            function A.replay.E() end
            projection('P', { on = { E = function(view, ev) view:put(ev.key, { ok = true }) end } })
            """, store: try SQLiteEventStore(path: temporaryDirectory().appendingPathComponent("k.db").path))
        for (key, accepted) in Self.keys {
            let swift = Result { () throws(InputError) in try InputRules.checkKey(key) }
            #expect(((try? swift.get()) != nil) == accepted, "\(JSONText.quote(key)) in Swift")
            // the same key through the projection's view:put (Lua)
            _ = try engine.execute(aggregate: "A", key: "probe", command: "e", args: JSONText.object([("key", JSONText.quote(key))]))
            let events = try engine.store.events(after: 0, limit: 10_000).suffix(1)
            let views = try #require(engine.store.projections)
            let lua = Result { try ProjectionHandlers(engine).project(engine.projections[0], generation: 1, views: views, events: Array(events)) }
            #expect(((try? lua.get()) != nil) == accepted, "\(JSONText.quote(key)) in Lua: \(lua)")
        }
    }

    @Test func theVersionOfAStateThatCannotBeEncodedCanBeRead() throws {
        let dir = temporaryDirectory()
        try """
            local A = aggregate('A', { initial = function() return {} end })
            A:event('E', {})
            function A.handle.e() return A.E{} end
            function A.replay.E(s) s.me = s end
            return A
            """.write(to: dir.appendingPathComponent("cyclic.lua"), atomically: true, encoding: .utf8)
        try """
            local A = require('cyclic')
            A('k'):e{}
            A('k'):e{}
            print(A('k').version, pcall(function() return A('k').state end))
            """.write(to: dir.appendingPathComponent("drive.lua"), atomically: true, encoding: .utf8)
        let engine = try Engine(store: InMemoryEventStore())
        try engine.run(script: dir.appendingPathComponent("drive.lua").path, display: "drive.lua")
        #expect(try engine.version(aggregate: "A", key: "k") == 2)
        let error = engineError { _ = try engine.state(aggregate: "A", key: "k") }
        #expect(error?.message.contains("cannot encode a cyclic table") == true, "the state itself cannot be encoded: \(String(describing: error))")
    }
}
