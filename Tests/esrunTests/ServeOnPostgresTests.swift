import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LuaESTools
import Testing

/// Two `esrun serve` processes on one PostgreSQL database, hammered over HTTP on the same
/// aggregates: every acknowledged command's event is stored once, versions stay contiguous,
/// and a conflict is either retried by the engine or answered with 409 (nothing stored).
@Suite("esrun serve on PostgreSQL")
struct ServeOnPostgresTests {
    static let url = ProcessInfo.processInfo.environment["ESRUN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }

    static let tally = """
        local Tally = aggregate("Tally", { snapshot_every = 7, initial = function() return { count = 0, sum = 0 } end })
        Tally:event("Added", { n = "integer" })
        function Tally.handle.add(state, cmd) return Tally.Added{ n = cmd.n } end
        function Tally.replay.Added(state, ev)
          state.count = state.count + 1
          state.sum = state.sum + ev.n
        end
        projection("Sums", { initial = { count = 0, sum = 0 }, on = { Added = function(view, ev, meta)
          view:update(meta.key, function(d) d.count = d.count + 1; d.sum = d.sum + ev.n end)
        end } })
        return Tally
        """

    @Test(.enabled(if: url != nil, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server); scripts/test.sh starts one"))
    func twoNodesShareOneDatabase() throws {
        let directory = try ESRunProcess.workspace()
        defer { try? FileManager.default.removeItem(at: directory) }  // only litter in the temporary directory is at stake
        try Self.tally.write(to: directory.appendingPathComponent("tally.lua"), atomically: true, encoding: .utf8)
        let database = Self.url! + "?schema=serve_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let nodes = try (0..<2).map { _ in
            try RunningServer(executable: ESRunProcess.binary, arguments: ["serve", "tally.lua", "--postgres", database, "--port", "0", "--workers", "2"], directory: directory, log: directory.appendingPathComponent("serve-\(UUID().uuidString).log"))
        }
        defer { for node in nodes { node.stop() } }

        let keys = ["k0", "k1", "k2"]
        let outcomes = Locked<[(key: String, n: Int, status: Int)]>([])
        let clients = 8, requestsPerClient = 30
        DispatchQueue.concurrentPerform(iterations: clients) { client in
            for i in 0..<requestsPerClient {
                let n = client * 1000 + i
                let key = keys[(client + i) % keys.count]
                let node = nodes[(client + i) % 2]
                // Every fourth request names the version it read: a conflict there is a 409.
                var ifMatch: String?
                if i % 4 == 3, let state = try? HTTP.request("GET", node.base + "/Tally/\(key)") {
                    ifMatch = (try? JSONSerialization.jsonObject(with: state.body) as? [String: Any])?["version"].map { "\($0)" }
                }
                let status = (try? HTTP.request("POST", node.base + "/Tally/\(key)/add", body: #"{"n":\#(n)}"#, ifMatch: ifMatch))?.status ?? -1
                outcomes.withLock { $0.append((key, n, status)) }
            }
        }

        let all = outcomes.current
        #expect(all.count == clients * requestsPerClient)
        #expect(all.allSatisfy { $0.status == 200 || $0.status == 409 }, "\(all.filter { $0.status != 200 && $0.status != 409 })")
        var total = 0
        for key in keys {
            let response = try HTTP.request("GET", nodes[1].base + "/Tally/\(key)/events?limit=10000")
            let object = try JSONSerialization.jsonObject(with: response.body) as? [String: Any]
            let events = object?["events"] as? [[String: Any]] ?? []
            let versions = events.compactMap { ($0["version"] as? NSNumber)?.intValue }
            let stored = events.compactMap { (($0["data"] as? [String: Any])?["n"] as? NSNumber)?.intValue }
            let acknowledged = all.filter { $0.key == key && $0.status == 200 }.map(\.n)
            #expect(versions == (0..<versions.count).map { $0 + 1 }, "versions of \(key) are contiguous")
            #expect(stored.sorted() == acknowledged.sorted(), "\(key): every acknowledged command once, nothing else")
            total += stored.count
        }
        let feed = try HTTP.request("GET", nodes[0].base + "/events?limit=10000")
        let feedEvents = (try JSONSerialization.jsonObject(with: feed.body) as? [String: Any])?["events"] as? [[String: Any]] ?? []
        #expect(feedEvents.count == total)
        // the projection (run by whichever node holds its lease) counts every event once
        try expectSums(nodes[1], keys: keys, events: total)
        // a clean stop hands the lease over: the other node carries on
        nodes[0].stop()
        for key in keys { _ = try HTTP.request("POST", nodes[1].base + "/Tally/\(key)/add", body: #"{"n":1}"#) }
        try expectSums(nodes[1], keys: keys, events: total + keys.count)
        let conflicts = all.filter { $0.status == 409 }.count
        print("two esrun serve nodes on PostgreSQL: \(total) commands committed, \(conflicts) answered 409 (If-Match), "
            + "\(all.count) requests")
    }

    @Test(.enabled(if: url != nil, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server); scripts/test.sh starts one"))
    func aFollowOnOneNodeWakesForAnotherNodesCommit() throws {
        let directory = try ESRunProcess.workspace()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.tally.write(to: directory.appendingPathComponent("tally.lua"), atomically: true, encoding: .utf8)
        let database = Self.url! + "?schema=follow_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
        let nodes = try (0..<2).map { _ in
            try RunningServer(executable: ESRunProcess.binary, arguments: ["serve", "tally.lua", "--postgres", database, "--port", "0", "--workers", "1"], directory: directory, log: directory.appendingPathComponent("serve-\(UUID().uuidString).log"))
        }
        defer { for node in nodes { node.stop() } }
        _ = try HTTP.request("POST", nodes[0].base + "/Tally/t/add", body: #"{"n":1}"#)
        Thread.sleep(forTimeInterval: 1)  // both nodes are listening by now
        let answered = Locked<(seconds: Double, body: String)?>(nil)
        let follower = Thread {
            let started = Date()
            let reply = try? HTTP.request("GET", nodes[1].base + "/events?after=1&follow=true&wait=25")
            answered.withLock { $0 = (Date().timeIntervalSince(started), String(decoding: reply?.body ?? Data(), as: UTF8.self)) }
        }
        follower.start()
        Thread.sleep(forTimeInterval: 0.5)
        _ = try HTTP.request("POST", nodes[0].base + "/Tally/t/add", body: #"{"n":2}"#)
        for _ in 0..<300 where answered.current == nil { Thread.sleep(forTimeInterval: 0.1) }
        let result = try #require(answered.current, "the long poll on the other node never answered")
        #expect(result.body.contains(#""position":2"#), "\(result.body)")
        // woken by the commit on the other node, long before its 25 s wait would end
        #expect(result.seconds < 15, "the follow answered after \(result.seconds) s")
    }

    /// Waits until the `Sums` projection has taken `events` events, then compares it with each stream.
    func expectSums(_ node: RunningServer, keys: [String], events: Int) throws {
        var counted = 0
        for _ in 0..<150 {
            counted = 0
            for key in keys {
                let reply = try HTTP.request("GET", node.base + "/projections/Sums/\(key)")
                let doc = (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["document"] as? [String: Any]
                counted += (doc?["count"] as? NSNumber)?.intValue ?? 0
            }
            if counted >= events { break }
            Thread.sleep(forTimeInterval: 0.1)
        }
        #expect(counted == events, "the projection counted \(counted) of \(events) events")
        for key in keys {
            let state = try JSONSerialization.jsonObject(with: try HTTP.request("GET", node.base + "/Tally/\(key)").body) as? [String: Any]
            let reply = try HTTP.request("GET", node.base + "/projections/Sums/\(key)")
            let doc = (try JSONSerialization.jsonObject(with: reply.body) as? [String: Any])?["document"] as? [String: Any]
            let expected = state?["state"] as? [String: Any]
            #expect((doc?["sum"] as? NSNumber) == (expected?["sum"] as? NSNumber), "sum of \(key)")
            #expect((doc?["count"] as? NSNumber) == (expected?["count"] as? NSNumber), "count of \(key)")
        }
    }
}
