import Foundation
import Testing

/// Projections in `esrun serve`: the query routes, status in /health, a failure that stops
/// one projection, and the fix that resumes it after a reload.
@Suite(.serialized) struct ProjectionServeTests {
    func waitFor(_ condition: () async throws -> Bool) async throws -> Bool {
        for _ in 0..<150 {
            if try await condition() { return true }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        return false
    }

    @Test func queriesStatusAndTokens() async throws {
        let dir = try ESRunProcess.workspace()
        try """
            admin-0123456789abcdef write
            limited-0123456789abcdef read Account
            """.write(to: dir.appendingPathComponent("tokens"), atomically: true, encoding: .utf8)
        let server = try ServerProcess(script: "bank.lua", in: dir, arguments: ["--db", "views.db", "--token-file", "tokens"])
        defer { server.stop() }
        let admin = ["Authorization": "Bearer admin-0123456789abcdef"]
        let limited = ["Authorization": "Bearer limited-0123456789abcdef"]
        for (path, body) in [("/Account/a1/open", #"{"owner":"alice"}"#), ("/Account/a2/open", #"{"owner":"alice"}"#),
                             ("/Account/a1/deposit", #"{"amount":20}"#), ("/Account/a2/deposit", #"{"amount":10}"#)] {
            #expect(try await server.post(path, body, headers: admin).status == 200)
        }
        #expect(try await waitFor {
            let doc = try await server.get("/projections/Balances/owner:alice", headers: admin).json["document"] as? [String: Any]
            return doc?["balance"] as? Int == 30
        }, "the projection follows the commits")
        let one = try await server.get("/projections/Balances/owner:alice", headers: admin).json
        #expect(one["position"] as? Int == 4)
        #expect((one["document"] as? [String: Any])?["accounts"] as? Int == 2)

        let page = try await server.get("/projections/Balances?prefix=account:&limit=1", headers: admin).json
        #expect((page["documents"] as? [[String: Any]])?.map { $0["key"] as? String } == ["account:a1"])
        #expect(page["next"] as? String == "account:a1")
        let rest = try await server.get("/projections/Balances?prefix=account:&after=account:a1", headers: admin).json
        #expect((rest["documents"] as? [[String: Any]])?.map { $0["key"] as? String } == ["account:a2"])
        #expect(rest["next"] is NSNull)

        let statuses = try await server.get("/projections", headers: admin).json["projections"] as? [[String: Any]]
        #expect(statuses?.first?["state"] as? String == "live")
        #expect(statuses?.first?["lag"] as? Int == 0)
        let health = try await server.get("/health").json
        #expect(health["status"] as? String == "ok")
        #expect(((health["projections"] as? [[String: Any]])?.first)?["position"] as? Int == 4)

        #expect(try await server.get("/projections/Nope/x", headers: admin).status == 404)
        let badLimit = try await server.get("/projections/Balances?limit=many", headers: admin)
        #expect(badLimit.status == 400 && badLimit.body.contains("bad_limit"), "\(badLimit.body)")
        let missing = try await server.get("/projections/Balances/owner:nobody", headers: admin)
        #expect(missing.status == 404 && missing.body.contains("not_found"))
        #expect(try await server.get("/Account/a1", headers: admin).status == 200, "aggregate routes still work")
        // views mix aggregates: a token limited to some aggregates may not read them (like the feed)
        #expect(try await server.get("/projections/Balances/owner:alice", headers: limited).status == 403)
        #expect(try await server.get("/projections/Balances/owner:alice").status == 401)
        #expect(try await server.get("/Account/a1", headers: limited).status == 200)
    }

    @Test func balancesMatchTheHistoryAfterThousandsOfConcurrentCommands() async throws {
        let dir = try ESRunProcess.workspace()
        let server = try ServerProcess(script: "bank.lua", in: dir, arguments: ["--db", "bank.db"])
        defer { server.stop() }
        let owners = ["ann", "ben", "cat", "dan", "eve"]
        for i in 0..<40 {
            #expect(try await server.post("/Account/acct-\(i)/open", #"{"owner":"\#(owners[i % 5])","overdraft":100}"#).status == 200)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<8 {
                group.addTask {
                    var rng = SystemRandomNumberGenerator()
                    for _ in 0..<300 {
                        let key = "acct-\(Int.random(in: 0..<40, using: &rng))"
                        let amount = Int.random(in: 1...200, using: &rng)
                        let command = Int.random(in: 0..<100, using: &rng) < 55 ? "deposit" : "withdraw"
                        let status = try await server.post("/Account/\(key)/\(command)", #"{"amount":\#(amount)}"#).status
                        #expect(status == 200 || status == 422, "client \(client): \(status)")
                    }
                }
            }
            try await group.waitForAll()
        }
        // the history, from the global feed
        var owner: [String: String] = [:], expected: [String: Int] = [:]
        var after = 0
        while true {
            let page = try await server.get("/events?after=\(after)&limit=10000").json
            let events = page["events"] as? [[String: Any]] ?? []
            if events.isEmpty { break }
            for e in events {
                let key = e["key"] as? String ?? "", data = e["data"] as? [String: Any] ?? [:]
                switch e["type"] as? String {
                case "Opened": owner[key] = data["owner"] as? String
                case "Deposited": expected[owner[key]!, default: 0] += data["amount"] as? Int ?? 0
                case "Withdrawn": expected[owner[key]!, default: 0] -= data["amount"] as? Int ?? 0
                default: break
                }
            }
            after = page["last_position"] as? Int ?? after
        }
        #expect(after > 2000)
        #expect(try await waitFor {
            let s = (try await server.get("/projections").json["projections"] as? [[String: Any]])?.first
            return s?["position"] as? Int == after
        }, "the projection reaches the head")
        for name in owners {
            let doc = try await server.get("/projections/Balances/owner:\(name)").json["document"] as? [String: Any]
            #expect(doc?["balance"] as? Int == expected[name] ?? 0, "balance of \(name)")
            #expect(doc?["accounts"] as? Int == 8)
        }
    }

    static func ledger(_ handler: String) -> String {
        """
        local Ledger = aggregate("Ledger", {})
        Ledger:event("Posted", { amount = "integer" })
        function Ledger.handle.post(state, cmd) return Ledger.Posted{ amount = cmd.amount } end
        function Ledger.replay.Posted(state, ev) end
        projection("Picky", { on = { Posted = function(view, ev)
          \(handler)
          view:update("all", function(d) d = d or { n = 0 }; d.n = d.n + 1; return d end)
        end } })
        return Ledger
        """
    }

    @Test func aFailureStopsTheProjectionAndAFixResumesIt() async throws {
        let dir = try ESRunProcess.workspace()
        let script = dir.appendingPathComponent("ledger.lua")
        try Self.ledger(#"if ev.amount == 13 then error("thirteen") end"#).write(to: script, atomically: true, encoding: .utf8)
        let server = try ServerProcess(script: "ledger.lua", in: dir, arguments: ["--db", "ledger.db"])
        defer { server.stop() }
        for amount in 1...20 {
            #expect(try await server.post("/Ledger/l\(amount % 3)/post", #"{"amount":\#(amount)}"#).status == 200,
                    "commands go on while the projection is stopped")
        }
        #expect(try await waitFor { (try await server.get("/health").json["status"] as? String) == "degraded" })
        let status = try #require((try await server.get("/projections").json["projections"] as? [[String: Any]])?.first)
        #expect(status["state"] as? String == "failed")
        let failure = status["failure"] as? [String: Any]
        #expect(failure?["position"] as? Int == 13)
        #expect(((failure?["error"] as? [String: Any])?["message"] as? String)?.contains("ledger.lua:6: thirteen") == true, "\(status)")
        #expect(((try await server.get("/projections/Picky/all").json["document"]) as? [String: Any])?["n"] as? Int == 12)

        try Self.ledger(#"if ev.amount == 13 then return end"#).write(to: script, atomically: true, encoding: .utf8)
        #expect(try await server.post("/admin/reload").status == 200)
        #expect(try await waitFor {
            let s = (try await server.get("/projections").json["projections"] as? [[String: Any]])?.first
            return s?["state"] as? String == "live" && s?["generation"] as? Int == 2
        }, "the fixed code rebuilds and takes over")
        #expect(((try await server.get("/projections/Picky/all").json["document"]) as? [String: Any])?["n"] as? Int == 19)
        #expect(try await server.get("/health").json["status"] as? String == "ok")
    }
}
