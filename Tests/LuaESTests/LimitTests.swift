import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// Runaway scripts are stopped by the budget or the memory cap, pcall cannot
/// swallow the stop, and the same host then runs a normal command correctly.
@Suite struct LimitTests {
    static var options: EngineOptions {
        var o = EngineOptions()
        o.limits.handle = .init(memoryBytes: 32 << 20, timeMilliseconds: 300)
        o.limits.replay = .init(memoryBytes: 32 << 20, timeMilliseconds: 300)
        return o
    }

    static let domain = """
        local A = aggregate('A', { initial = function() return { n = 0 } end })
        A:event('Ran', { what = 'string' })
        A:event('Counted', {})
        local runaway = {
          loop = function() while true do end end,
          pcall_loop = function() while true do pcall(function() while true do end end) end end,
          pcall_retry = function() for i = 1, 1e12 do pcall(error, 'x') end end,
          error_loop = function() local ok repeat ok = pcall(function() while true do end end) until false end,
          rep = function() local s = string.rep('x', 1 << 30) return #s end,
          rep_pcall = function() while true do pcall(string.rep, 'x', 1 << 30) end end,
          grow = function() local t = {} for i = 1, 1e12 do t[i] = { i } end end,
          grow_pcall = function() local keep = {} while true do pcall(function() for i = 1, 1e9 do keep[#keep + 1] = ('y'):rep(100) .. i end end) end end,
          concat = function() local s = 'x' while true do s = s .. s end end,
          pattern = function() return (('a'):rep(30000)):find(('a*'):rep(30) .. 'b') end,
          gsub = function() return (('a'):rep(30000)):gsub(('a-'):rep(20) .. 'b', '') end,
          rep_empty = function() local s = string.rep('', math.maxinteger) return s end,
          move = function() return table.move({}, 1, math.maxinteger - 10, 2) end,
          coroutine = function() local co = coroutine.wrap(function() while true do end end) co() end,
          tostring_loop = function() error(setmetatable({}, { __tostring = function() while true do end end })) end,
          sort = function() local t = {} for i = 1, 200 do t[i] = i end table.sort(t, function(a, b) while true do end end) end,
        }
        local stale = coroutine.create(function() while true do coroutine.yield() end end)
        runaway.old_coroutine = function() coroutine.resume(stale) while true do coroutine.resume(stale) end end
        function A.handle.run(state, cmd) runaway[cmd.what]() return A.Ran{ what = cmd.what } end
        function A.handle.replay(state, cmd) return A.Ran{ what = cmd.what } end
        function A.handle.count(state) return A.Counted{} end
        function A.replay.Ran(state, ev) if ev.what ~= 'none' then runaway[ev.what]() end end
        function A.replay.Counted(state) state.n = state.n + 1 end
        return A
        """

    static let cases = ["loop", "pcall_loop", "pcall_retry", "error_loop", "rep", "rep_pcall", "grow", "grow_pcall", "concat",
                        "pattern", "gsub", "move", "coroutine", "old_coroutine", "sort"]

    @Test(arguments: cases)
    func stoppedInHandlers(what: String) throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine(Self.domain, options: Self.options, store: store)
        let started = Date()
        let error = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "run", args: #"{"what":"\#(what)"}"#) }
        #expect(Date().timeIntervalSince(started) < 10, "\(what) must stop quickly")
        #expect(error?.kind == .limit, "\(what): \(String(describing: error))")
        #expect(error?.message.contains("handler A.run") == true, "\(String(describing: error))")
        #expect(try store.version(of: StreamID(aggregate: "A", key: "k")) == 0)
        try expectHealthy(engine)
    }

    @Test(arguments: ["loop", "pcall_loop", "grow", "pattern", "coroutine"])
    func stoppedInReplay(what: String) throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine(Self.domain, options: Self.options, store: store)
        let error = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "replay", args: #"{"what":"\#(what)"}"#) }
        #expect(error?.kind == .limit, "\(what): \(String(describing: error))")
        #expect(error?.message.hasPrefix("replay of A.Ran") == true, "\(String(describing: error))")
        #expect(try store.version(of: StreamID(aggregate: "A", key: "k")) == 0, "replay failed: nothing stored")
        try expectHealthy(engine)
    }

    @Test func anErrorValueWithALoopingTostringIsReportedWithoutCallingIt() throws {
        let engine = try makeEngine(Self.domain, options: Self.options)
        let error = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "run", args: #"{"what":"tostring_loop"}"#) }
        #expect(error?.kind == .script)
        #expect(error?.message == "handler A.run: error object is a table value")
        try expectHealthy(engine)
    }

    @Test func emptyRepeatIsInstant() throws {
        let engine = try makeEngine(Self.domain, options: Self.options)
        // Were the empty piece repeated in a loop, the 300 ms budget would stop it with a limit error.
        let r = try engine.execute(aggregate: "A", key: "k", command: "run", args: #"{"what":"rep_empty"}"#)
        #expect(r.version == 1)
    }

    @Test func theExactInstructionBudgetStopsLoopsToo() throws {
        var options = Self.options
        options.limits.handle = .init(memoryBytes: 32 << 20, timeMilliseconds: 0, instructions: 1_000_000)
        let engine = try makeEngine(Self.domain, options: options)
        let error = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "run", args: #"{"what":"pcall_loop"}"#) }
        #expect(error?.kind == .limit)
        #expect(error?.code == "instructions")
        try expectHealthy(engine)
    }

    @Test func interruptStopsARunningCommand() throws {
        var options = Self.options
        options.limits.handle = .init(memoryBytes: 32 << 20, timeMilliseconds: 0)
        let engine = try makeEngine(Self.domain, options: options)
        let interrupter = engine.makeInterrupter()
        Thread.detachNewThread { usleep(200_000); interrupter.interrupt() }
        let error = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "run", args: #"{"what":"pcall_loop"}"#) }
        #expect(error?.code == "interrupted")
        try expectHealthy(engine)
    }

    /// After a stopped call, the same host still runs commands and reads correctly.
    func expectHealthy(_ engine: Engine) throws {
        for _ in 1...3 { _ = try engine.execute(aggregate: "A", key: "healthy", command: "count") }
        #expect(try engine.state(aggregate: "A", key: "healthy").state == #"{"n":3}"#)
        engine.dropCache()
        #expect(try engine.state(aggregate: "A", key: "healthy").state == #"{"n":3}"#)
    }
}
