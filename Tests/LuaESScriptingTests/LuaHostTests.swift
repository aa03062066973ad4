import Foundation
import LuaESCore
@testable import LuaESScripting
import Testing

/// The Lua runtime on its own, through its typed boundary: no store, no engine.
@Suite struct LuaHostTests {
    static let counter = """
        local Counter = aggregate("Counter", { initial = function() return { count = 0 } end })
        Counter:event("Incremented", { by = "integer" })
        function Counter.handle.increment(state, cmd) return Counter.Incremented{ by = cmd.by or 1 } end
        function Counter.replay.Incremented(state, ev) state.count = state.count + ev.by end
        function Counter.handle.refuse() fault("no", "never") end
        return Counter
        """

    func host(_ source: String = counter) throws -> LuaHost {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("luaes-host-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("counter.lua").path
        try source.write(toFile: path, atomically: true, encoding: .utf8)
        let host = try LuaHost()
        try host.runFile(path, display: "counter.lua", phase: .load)
        return host
    }

    func call(_ command: String, _ args: String = "{}", version: Int64 = 0) -> HandleCall {
        HandleCall(aggregate: "Counter", command: command, args: args, key: "c1", version: version, meta: nil,
                   wantsState: true, snapshotEvery: 0, hookMeta: nil)
    }

    @Test func describesHandlesAndReplays() throws {
        let host = try host()
        let domain = try host.describe()
        #expect(domain.aggregates.map(\.name) == ["Counter"])
        #expect(domain.aggregates[0].commands.sorted() == ["increment", "refuse"])

        let initial = try host.initialState(of: "Counter")
        let outcome = try host.handle(call("increment", #"{"by":3}"#), on: initial)
        #expect(outcome.events == [ProducedEvent(type: "Incremented", schema: 1, data: #"{"by":3}"#)])
        #expect(outcome.stateJSON == #"{"count":3}"#)
        #expect(outcome.eventMeta == nil)

        var page = ReplayPage()
        page.append(type: Array("Incremented".utf8), data: Array(#"{"by":2}"#.utf8), schema: 1, version: 1)
        page.append(type: Array("Incremented".utf8), data: Array(#"{"by":5}"#.utf8), schema: 1, version: 2)
        try host.replay(page, onto: outcome.state, aggregate: "Counter")
        #expect(try host.encodeState(outcome.state) == #"{"count":10}"#)
    }

    @Test func failuresArriveTypedWithTheirKind() throws {
        let host = try host()
        let state = try host.initialState(of: "Counter")
        #expect(throws: ScriptError.self) { try host.handle(call("refuse"), on: state) }
        do throws(ScriptError) {
            _ = try host.handle(call("refuse"), on: state)
        } catch {
            #expect(error.kind == .fault)
            #expect(error.code == "no")
        }
        var page = ReplayPage()
        page.append(type: Array("Unknown".utf8), data: Array("{}".utf8), schema: 1, version: 1)
        do throws(ScriptError) {
            try host.replay(page, onto: state, aggregate: "Counter")
            Issue.record("replaying an undeclared type must fail")
        } catch {
            #expect(error.kind == .script)
            #expect(error.message.contains("Unknown"))
        }
    }

    @Test func aDroppedStateReleasesItsTable() throws {
        let host = try host()
        _ = host.collectGarbage()
        let before = host.memoryInUse
        for _ in 0..<2_000 {
            let state = try host.decodeState(#"{"payload":"\#(String(repeating: "x", count: 512))"}"#, label: "test")
            _ = try host.encodeState(state)
        }
        let after = host.collectGarbage()
        #expect(after < before + 64 * 1024, "\(after - before) bytes still held after every state was dropped")
    }
}

/// The one table that maps each error kind to its HTTP status, exit code and Lua kind.
@Suite struct ErrorTableTests {
    @Test func everyKindHasOneMapping() {
        for kind in ErrorKind.allCases {
            #expect((100..<600).contains(kind.httpStatus), "\(kind)")
            #expect(ErrorKind(luaKind: kind.luaKind).luaKind == kind.luaKind, "\(kind)")
        }
        // The kinds of ARCHITECTURE.md, "Domain API" read back as themselves in Lua.
        for name in ["fault", "conflict", "script", "limit", "forbidden", "invalid", "refused"] {
            #expect(ErrorKind(luaKind: name).rawValue == name)
        }
        #expect(ErrorKind(luaKind: "no such kind") == .script)
        #expect(ErrorKind.refused.httpStatus == 422 && ErrorKind.fault.httpStatus == 422)
        let exits: [ErrorKind: Int32] = [.invalid: 2, .fault: 3, .conflict: 4, .script: 5, .limit: 6, .forbidden: 7,
                                         .store: 8, .refused: 9]
        for (kind, code) in exits { #expect(kind.exitCode == code, "\(kind)") }
    }
}
