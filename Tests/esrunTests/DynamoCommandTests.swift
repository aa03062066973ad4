import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LuaESTools
import Testing

/// The moto server scripts/test.sh started, if any.
let motoEndpoint = ProcessInfo.processInfo.environment["ESRUN_TEST_DYNAMODB_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 }

/// The built `esrun` on a DynamoDB table (moto): commands, history and the feed (`tail`), and
/// two `esrun serve` nodes on one table under concurrent commands.
@Suite("esrun on DynamoDB", .enabled(if: motoEndpoint != nil, "needs ESRUN_TEST_DYNAMODB_ENDPOINT (moto); scripts/test.sh starts one"))
struct DynamoCommandTests {
    static let endpoint = motoEndpoint

    /// A URL of a fresh table (created on first use), with credentials moto accepts in the environment.
    static func freshTable() -> String {
        setenv("AWS_ACCESS_KEY_ID", "testing", 0)
        setenv("AWS_SECRET_ACCESS_KEY", "testing", 0)
        return "dynamodb://e2e-\(UUID().uuidString.lowercased())?region=us-east-1&endpoint=\(endpoint!)&create=true"
    }

    @Test func commandsHistoryAndTailOnOneTable() throws {
        let dir = try ESRunProcess.workspace()
        let table = Self.freshTable()
        for by in [2, 3, 4] {
            let r = try ESRunProcess.run(["exec", "counter.lua", "Counter", "c1", "increment", #"{"by":\#(by)}"#, "--dynamodb", table], in: dir)
            #expect(r.status == 0, "\(r.stderr)")
        }
        let opened = try ESRunProcess.run(["exec", "bank.lua", "Account", "a1", "open", #"{"owner":"ada"}"#, "--dynamodb", table], in: dir)
        #expect(opened.status == 0, "\(opened.stderr)")

        let state = try ESRunProcess.run(["state", "counter.lua", "Counter", "c1", "--dynamodb", table], in: dir)
        #expect(state.status == 0, "\(state.stderr)")
        #expect(state.stdout.contains("9"), "\(state.stdout)")

        let history = try ESRunProcess.run(["history", "counter.lua", "Counter", "c1", "--dynamodb", table], in: dir)
        #expect(history.status == 0, "\(history.stderr)")
        let events = try #require(JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]], "\(history.stdout)")
        #expect(events.compactMap { $0["version"] as? Int } == [1, 2, 3])

        let tail = try ESRunProcess.run(["tail", "--dynamodb", table], in: dir, seconds: 30)
        #expect(tail.status == 0 && !tail.timedOut, "\(tail.stderr)")
        let feed = try tail.stdout.split(separator: "\n").map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        #expect(feed.map { $0["aggregate"] as? String } == ["Counter", "Counter", "Counter", "Account"])
        let positions = feed.compactMap { ($0["position"] as? NSNumber)?.int64Value }
        #expect(positions.count == 4 && zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 })
        // the feed's Counter events are the history's, text for text
        #expect(history.stdout == "[" + tail.stdout.split(separator: "\n").prefix(3).joined(separator: ",") + "]\n")
        let after = try ESRunProcess.run(["tail", "--after", "\(positions[1])", "--dynamodb", table], in: dir)
        #expect(after.stdout.split(separator: "\n").count == 2, "\(after.stdout)")
    }

    @Test func badURLsAndMissingTablesAreClearErrors() throws {
        let dir = try ESRunProcess.workspace()
        _ = Self.freshTable()
        let bad = try ESRunProcess.run(["tail", "--dynamodb", "dynamodb://x"], in: dir)
        #expect(bad.status != 0 && bad.stderr.contains("table name"), "\(bad.stderr)")
        let both = try ESRunProcess.run(["tail", "--memory", "--dynamodb", "dynamodb://events?region=us-east-1"], in: dir)
        #expect(both.status != 0 && both.stderr.contains("exclude each other"), "\(both.stderr)")
        let missing = try ESRunProcess.run(["tail", "--dynamodb", "dynamodb://nothing-here?region=us-east-1&endpoint=\(Self.endpoint!)"], in: dir)
        #expect(missing.status != 0 && missing.stderr.contains("create=true"), "\(missing.stderr)")
    }

    static let tally = """
        local Tally = aggregate("Tally", { snapshot_every = 7, initial = function() return { count = 0, sum = 0 } end })
        Tally:event("Added", { n = "integer" })
        function Tally.handle.add(state, cmd) return Tally.Added{ n = cmd.n } end
        function Tally.replay.Added(state, ev)
          state.count = state.count + 1
          state.sum = state.sum + ev.n
        end
        return Tally
        """

    /// Two nodes on one table, concurrent commands on the same keys: every acknowledged command
    /// stored once, versions contiguous, the feed holds them all.
    @Test func twoServeNodesShareOneTable() throws {
        let directory = try ESRunProcess.workspace()
        defer { try? FileManager.default.removeItem(at: directory) }  // only litter in the temporary directory is at stake
        try Self.tally.write(to: directory.appendingPathComponent("tally.lua"), atomically: true, encoding: .utf8)
        let table = Self.freshTable()
        // the first node creates the table; the second one opens it
        let nodes = try (0..<2).map { _ in
            try RunningServer(executable: ESRunProcess.binary, arguments: ["serve", "tally.lua", "--dynamodb", table, "--port", "0", "--workers", "2"],
                              directory: directory, log: directory.appendingPathComponent("serve-\(UUID().uuidString).log"))
        }
        defer { for node in nodes { node.stop() } }
        let keys = ["k0", "k1", "k2"]
        let outcomes = Locked<[(key: String, n: Int, status: Int)]>([])
        let clients = 6, requestsPerClient = 15
        DispatchQueue.concurrentPerform(iterations: clients) { client in
            for i in 0..<requestsPerClient {
                let n = client * 1000 + i
                let key = keys[(client + i) % keys.count]
                let status = (try? HTTP.request("POST", nodes[(client + i) % 2].base + "/Tally/\(key)/add", body: #"{"n":\#(n)}"#))?.status ?? -1
                outcomes.withLock { $0.append((key, n, status)) }
            }
        }
        let all = outcomes.current
        #expect(all.allSatisfy { $0.status == 200 }, "\(all.filter { $0.status != 200 })")
        var total = 0
        for key in keys {
            let response = try HTTP.request("GET", nodes[1].base + "/Tally/\(key)/events?limit=10000")
            let events = (try JSONSerialization.jsonObject(with: response.body) as? [String: Any])?["events"] as? [[String: Any]] ?? []
            let versions = events.compactMap { ($0["version"] as? NSNumber)?.intValue }
            let stored = events.compactMap { (($0["data"] as? [String: Any])?["n"] as? NSNumber)?.intValue }
            #expect(versions == (0..<versions.count).map { $0 + 1 }, "versions of \(key) are contiguous")
            #expect(stored.sorted() == all.filter { $0.key == key && $0.status == 200 }.map(\.n).sorted())
            total += stored.count
        }
        #expect(total == clients * requestsPerClient)
        let feed = try HTTP.request("GET", nodes[0].base + "/events?limit=10000")
        let feedEvents = (try JSONSerialization.jsonObject(with: feed.body) as? [String: Any])?["events"] as? [[String: Any]] ?? []
        #expect(feedEvents.count == total)
    }
}
