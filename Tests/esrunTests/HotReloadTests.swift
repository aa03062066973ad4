import Foundation
import LuaES
import LuaESCore
import LuaESTools
import LuaESStore
import LuaESScripting
import Testing

/// `esrun serve --watch`: edits go live, a broken script never replaces a working one,
/// a replay change makes stored snapshots be ignored and recomputed.
@Suite(.serialized) struct HotReloadTests {
    static func domain(limit: Int, replay: String = "state.count = state.count + ev.by") -> String {
        """
        local Counter = aggregate('Counter', { snapshot_every = 2, initial = function() return { count = 0 } end })
        Counter:event('Incremented', { by = 'integer' })
        function Counter.handle.increment(state, cmd)
          if state.count + (cmd.by or 1) > \(limit) then fault('limit_reached', 'limit is \(limit)') end
          return Counter.Incremented{ by = cmd.by or 1 }
        end
        function Counter.replay.Incremented(state, ev) \(replay) end
        return Counter
        """
    }

    func write(_ text: String, _ dir: URL) throws {
        try text.write(to: dir.appendingPathComponent("live.lua"), atomically: true, encoding: .utf8)
    }

    func fingerprint(_ server: ServerProcess) async throws -> String? {
        let aggregates = try await server.get("/health").json["aggregates"] as? [[String: Any]]
        return aggregates?.first?["fingerprint"] as? String
    }

    func waitFor(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<100 {
            if try await condition() { return true }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return false
    }

    @Test func editsGoLiveAndBrokenScriptsDoNot() async throws {
        let dir = try ESRunProcess.workspace()
        try write(Self.domain(limit: 3), dir)
        let server = try ServerProcess(script: "live.lua", in: dir, arguments: ["--watch", "--db", "live.db"])
        defer { server.stop() }
        for _ in 1...3 { #expect(try await server.post("/Counter/c/increment").status == 200) }
        #expect(try await server.post("/Counter/c/increment").status == 422)
        let before = try await fingerprint(server)

        try write(Self.domain(limit: 10), dir)   // a handler change
        #expect(try await waitFor { try await server.post("/Counter/c/increment").status == 200 }, "new rule live")
        #expect(try await fingerprint(server) == before, "handlers are not part of the fingerprint")

        try write("local Counter = aggregate('Counter'\n", dir)  // broken
        #expect(try await waitFor { (try await server.get("/health").json["status"] as? String) == "degraded" })
        let health = try await server.get("/health").json
        #expect(((health["reload_error"] as? [String: Any])?["message"] as? String)?.contains("live.lua") == true, "\(health)")
        #expect(try await server.post("/Counter/c/increment").status == 200, "old rules keep serving")

        try write(Self.domain(limit: 100, replay: "state.count = state.count + 2 * ev.by"), dir)  // a replay change
        #expect(try await waitFor { try await fingerprint(server) != before })
        let state = try await server.get("/Counter/c").json
        #expect((state["state"] as? [String: Any])?["count"] as? Int == 2 * (state["version"] as? Int ?? 0),
                "state recomputed with the new replay, stale snapshots ignored: \(state)")
        #expect(try await server.post("/Counter/c/increment").status == 200)
        server.stop()
        let store = try SQLiteEventStore(path: dir.appendingPathComponent("live.db").path)
        defer { try? store.close() }
        let snapshot = try store.snapshot(of: StreamID(aggregate: "Counter", key: "c"))
        #expect(snapshot?.fingerprint != before, "the snapshot was replaced under the new fingerprint")
    }

    @Test func adminReloadRefusesABrokenScript() async throws {
        let dir = try ESRunProcess.workspace()
        try write(Self.domain(limit: 3), dir)
        let server = try ServerProcess(script: "live.lua", in: dir)
        defer { server.stop() }
        try write("return 1 +", dir)
        let refused = try await server.post("/admin/reload")
        #expect(refused.status == 500 || refused.status == 400, "\(refused.body)")
        #expect(try await server.post("/Counter/r/increment").status == 200)
        try write(Self.domain(limit: 0), dir)
        #expect(try await server.post("/admin/reload").status == 200)
        #expect(try await server.post("/Counter/r/increment").status == 422)
    }
}
