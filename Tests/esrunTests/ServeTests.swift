import Foundation
import LuaES
import LuaESCore
import LuaESTools
import LuaESStore
import LuaESScripting
import Testing

/// `esrun serve` over real HTTP on loopback.
@Suite(.serialized) struct ServeTests {
    static let buggy = """
        local B = aggregate('Buggy')
        B:event('Done', {})
        function B.handle.crash() local t = nil return t.x end
        function B.handle.spin() while true do end end
        function B.handle.ok() return B.Done{} end
        function B.replay.Done() end
        return B
        """

    @Test func everyRouteAndStatusCode() async throws {
        let dir = try ESRunProcess.workspace()
        try Self.buggy.write(to: dir.appendingPathComponent("buggy.lua"), atomically: true, encoding: .utf8)
        try "local C = require('counter')\nlocal B = require('buggy')\nreturn C\n"
            .write(to: dir.appendingPathComponent("domain.lua"), atomically: true, encoding: .utf8)
        let server = try ServerProcess(script: "domain.lua", in: dir, arguments: ["--max-body", "200"])
        defer { server.stop() }
        let first = try await server.post("/Counter/c1/increment", #"{"by":2}"#)
        #expect(first.status == 200)
        #expect(first.json["version"] as? Int == 1)
        #expect((first.json["state"] as? [String: Any])?["count"] as? Int == 2)
        #expect(try await server.post("/Counter/c1/increment").json["version"] as? Int == 2)
        #expect(try await server.get("/Counter/c1").body == #"{"version":2,"state":{"count":3}}"# + "\n")
        #expect(try await server.get("/Counter/c1?at=1").body == #"{"version":1,"state":{"count":2}}"# + "\n")
        #expect(try await server.get("/Counter/c1?at=9").status == 400)
        let events = try await server.get("/Counter/c1/events")
        #expect((events.json["events"] as? [[String: Any]])?.map { $0["version"] as? Int } == [1, 2])
        let feed = try await server.get("/events?after=1&limit=10")
        #expect((feed.json["events"] as? [[String: Any]])?.count == 1)
        #expect(feed.json["last_position"] as? Int == 2)
        let cases: [(String, String, String?, [String: String], Int, String)] = [
            ("POST", "/Counter/c1/increment", nil, ["If-Match": "0"], 409, "conflict"),
            ("POST", "/Counter/c1/increment", #"{"by":100}"#, [:], 422, "limit_reached"),
            ("POST", "/Counter/c1/nope", nil, [:], 404, "unknown_command"),
            ("POST", "/Nope/c1/increment", nil, [:], 404, "unknown_aggregate"),
            ("GET", "/Nope/c1", nil, [:], 404, "unknown_aggregate"),
            ("POST", "/Counter/c1/increment", "{bad}", [:], 400, "bad_json"),
            ("POST", "/Counter/c1/increment", "{bad", [:], 400, "bad_body"),
            ("POST", "/Counter/c1/increment", "[" + String(repeating: "1,", count: 200) + "1]", [:], 413, "too_large"),
            ("POST", "/Counter/c1/increment", nil, ["If-Match": "abc"], 400, "bad_if_match"),
            ("POST", "/Buggy/b/crash", nil, [:], 500, "error"),
            ("POST", "/Buggy/b/spin", nil, [:], 500, "time"),
            ("GET", "/events?after=x", nil, [:], 400, "bad_cursor"),
        ]
        for (method, path, body, headers, status, code) in cases {
            let reply = try await server.request(method, path, body: body, headers: headers)
            #expect(reply.status == status, "\(method) \(path): \(reply.body)")
            #expect((reply.json["error"] as? [String: Any])?["code"] as? String == code, "\(method) \(path): \(reply.body)")
        }
        #expect(try await server.get("/Counter/c1").json["version"] as? Int == 2, "failed commands stored nothing")
        #expect(try await server.post("/Buggy/b/ok").status == 200, "the worker serves on after a runaway handler")
        let health = try await server.get("/health")
        #expect(health.status == 200 && health.json["status"] as? String == "ok")
        let metrics = try await server.get("/metrics")
        #expect(metrics.body.contains(#"esrun_commands_total{outcome="ok"} 3"#), "\(metrics.body)")
        #expect(metrics.body.contains("esrun_command_seconds_bucket"))
        #expect(metrics.body.contains("esrun_faults_total 1"))
        // every command that appended went to the store in a group commit of its worker
        func counter(_ name: String) -> Int? {
            metrics.body.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Int($0.dropFirst(name.count + 1)) }
        }
        let (commits, committed) = (counter("esrun_store_commits_total") ?? 0, counter("esrun_store_commit_commands_total") ?? 0)
        #expect(commits >= 2 && committed >= commits && committed <= 3, "\(metrics.body)")
    }

    @Test func bearerTokensAndScopes() async throws {
        let dir = try ESRunProcess.workspace()
        try """
            # tokens for the test
            reader-0123456789abcdef read
            writer-0123456789abcdef write Counter
            """.write(to: dir.appendingPathComponent("tokens"), atomically: true, encoding: .utf8)
        try "local C = require('counter')\nlocal A = require('bank')\nreturn C\n"
            .write(to: dir.appendingPathComponent("domain.lua"), atomically: true, encoding: .utf8)
        let server = try ServerProcess(script: "domain.lua", in: dir, arguments: ["--token-file", "tokens"])
        defer { server.stop() }
        let reader = ["Authorization": "Bearer reader-0123456789abcdef"]
        let writer = ["Authorization": "Bearer writer-0123456789abcdef"]
        #expect(try await server.post("/Counter/c/increment").status == 401)
        #expect(try await server.post("/Counter/c/increment", headers: ["Authorization": "Bearer wrong-0123456789abcdef"]).status == 401)
        #expect(try await server.post("/Counter/c/increment", headers: reader).status == 403)
        #expect(try await server.post("/Counter/c/increment", headers: writer).status == 200)
        #expect(try await server.post("/Account/a/open", #"{"owner":"x"}"#, headers: writer).status == 403)
        #expect(try await server.get("/Counter/c", headers: reader).status == 200)
        #expect(try await server.get("/Counter/c").status == 401)
        #expect(try await server.get("/events", headers: reader).status == 200)
        #expect(try await server.get("/metrics").status == 401)
        #expect(try await server.get("/health").status == 200)
        #expect(!server.log.contains("0123456789abcdef"), "tokens are never logged")
    }

    @Test func concurrentClientsLoseAndDuplicateNothing() async throws {
        let dir = try ESRunProcess.workspace()
        let server = try ServerProcess(script: "bank.lua", in: dir)
        defer { server.stop() }
        for key in ["hot"] + (0..<10).map({ "k\($0)" }) {
            #expect(try await server.post("/Account/\(key)/open", #"{"owner":"x"}"#).status == 200)
        }
        let ok = try await withThrowingTaskGroup(of: Bool.self) { group in
            for client in 0..<200 {
                group.addTask {
                    let key = client % 2 == 0 ? "hot" : "k\(client % 10)"
                    return try await server.post("/Account/\(key)/deposit", #"{"amount":1}"#).status == 200
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(ok == 200)
        var deposits = 0
        for key in ["hot"] + (0..<10).map({ "k\($0)" }) {
            let events = (try await server.get("/Account/\(key)/events").json["events"] as? [[String: Any]]) ?? []
            #expect(events.map { $0["version"] as? Int ?? 0 } == Array(1...events.count), "versions of \(key) are contiguous")
            deposits += events.filter { $0["type"] as? String == "Deposited" }.count
        }
        #expect(deposits == 200)
        let feed = (try await server.get("/events?limit=1000").json["events"] as? [[String: Any]]) ?? []
        let positions = feed.compactMap { $0["position"] as? Int }
        #expect(positions == positions.sorted() && Set(positions).count == 211)
    }

    @Test func idempotentRetriesSurviveARestart() async throws {
        let dir = try ESRunProcess.workspace()
        var server = try ServerProcess(script: "counter.lua", in: dir)
        let key = ["Idempotency-Key": "order-42"]
        let first = try await server.post("/Counter/i/increment", #"{"by":4}"#, headers: key)
        let again = try await server.post("/Counter/i/increment", #"{"by":4}"#, headers: key)
        #expect(first.status == 200 && again.body == first.body)
        #expect(server.stop() == 0, "SIGTERM shuts down cleanly")
        server = try ServerProcess(script: "counter.lua", in: dir)
        defer { server.stop() }
        let later = try await server.post("/Counter/i/increment", #"{"by":4}"#, headers: key)
        #expect(later.body == first.body)
        #expect(try await server.get("/Counter/i").json["version"] as? Int == 1)
    }

    @Test func followWaitsForTheNextCommit() async throws {
        let dir = try ESRunProcess.workspace()
        let server = try ServerProcess(script: "counter.lua", in: dir)
        defer { server.stop() }
        async let waiting = server.get("/events?after=0&follow=true&wait=10")
        try await Task.sleep(nanoseconds: 300_000_000)
        _ = try await server.post("/Counter/f/increment")
        let reply = try await waiting
        #expect((reply.json["events"] as? [[String: Any]])?.count == 1)
        let empty = try await server.get("/events?after=1&follow=true&wait=1")
        #expect((empty.json["events"] as? [[String: Any]])?.isEmpty == true)
    }
}
