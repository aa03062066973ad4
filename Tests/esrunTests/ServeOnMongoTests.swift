import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LuaESMongo
import LuaESStore
import LuaESTools
import Testing

/// `esrun --mongodb URL` and `--snapshots mongodb://` on the built binary: two `esrun serve`
/// processes on one MongoDB database hammered on the same aggregates, with and without
/// idempotency keys (several keyed commands on one stream share a group commit, so claims
/// are in play), and MongoDB snapshots beside a SQLite event store.
@Suite("esrun on MongoDB", .enabled(if: MongoServer.url != nil, "needs ESRUN_TEST_MONGODB_URL; scripts/test.sh starts nx-27017"))
struct ServeOnMongoTests {
    static var url: String? { MongoServer.url }

    static func database(_ hint: String) -> String { MongoServer.database(hint) }

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

    @Test func twoNodesShareOneDatabase() throws {
        let directory = try ESRunProcess.workspace()
        defer { try? FileManager.default.removeItem(at: directory) }  // only litter in the temporary directory is at stake
        try Self.tally.write(to: directory.appendingPathComponent("tally.lua"), atomically: true, encoding: .utf8)
        let database = Self.database("serve")
        let nodes = try (0..<2).map { _ in
            try RunningServer(executable: ESRunProcess.binary, arguments: ["serve", "tally.lua", "--mongodb", database, "--port", "0", "--workers", "2"],
                              directory: directory, log: directory.appendingPathComponent("serve-\(UUID().uuidString).log"))
        }
        defer { for node in nodes { node.stop() } }

        let keys = ["k0", "k1", "k2"]
        let outcomes = Locked<[(key: String, n: Int, status: Int)]>([])
        let clients = 8, requestsPerClient = 25
        let started = Date()
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
                // Every third carries an idempotency key, sent to both nodes: it must commit once.
                if i % 3 == 1 {
                    let headers = ["Idempotency-Key": "cmd-\(n)"]
                    let first = (try? HTTP.request("POST", node.base + "/Tally/\(key)/add", body: #"{"n":\#(n)}"#, headers: headers))?.status ?? -1
                    let other = nodes[(client + i + 1) % 2]
                    let again = (try? HTTP.request("POST", other.base + "/Tally/\(key)/add", body: #"{"n":\#(n)}"#, headers: headers))?.status ?? -1
                    outcomes.withLock { $0.append((key, n, first == 200 && again == 200 ? 200 : first * 1000 + again)) }
                    continue
                }
                let status = (try? HTTP.request("POST", node.base + "/Tally/\(key)/add", body: #"{"n":\#(n)}"#, ifMatch: ifMatch))?.status ?? -1
                outcomes.withLock { $0.append((key, n, status)) }
            }
        }
        let seconds = Date().timeIntervalSince(started)

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
        let positions = feedEvents.compactMap { ($0["position"] as? NSNumber)?.int64Value }
        #expect(zip(positions, positions.dropFirst()).allSatisfy { $0 < $1 }, "the feed is in position order")
        let conflicts = all.filter { $0.status == 409 }.count
        print("two esrun serve nodes on MongoDB (nx-27017): \(total) commands committed, \(conflicts) answered 409 (If-Match), "
            + "\(all.count) requests in \(String(format: "%.1f", seconds)) s")
    }

    @Test func snapshotsInMongoDBBesideSQLite() throws {
        let dir = try ESRunProcess.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = Self.database("snap")
        for version in 1...21 {
            let run = try ESRunProcess.run(["exec", "counter.lua", "Counter", "c 1 ✓", "increment", "--db", "c.db",
                                            "--snapshots", url], in: dir)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains(#""version":\#(version)"#), "\(run.stdout)")
        }
        let mongo = try MongoSnapshotStore(configuration: MongoStoreConfiguration(url: url))
        defer { try? mongo.close() }
        let stream = StreamID(aggregate: "Counter", key: "c 1 ✓")
        #expect(try mongo.snapshot(of: stream)?.version == 20, "counter.lua snapshots every 10 events")
        let sqlite = try SQLiteEventStore(path: dir.appendingPathComponent("c.db").path)
        #expect(try sqlite.snapshot(of: stream) == nil, "none in the event store")
        try sqlite.close()
        let verify = try ESRunProcess.run(["verify", "counter.lua", "--db", "c.db", "--snapshots", url], in: dir)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("(1 snapshot checked)"), "\(verify.stdout)")
        // a MongoDB that is down never fails a command
        let down = try ESRunProcess.run(["exec", "counter.lua", "Counter", "c 1 ✓", "increment", "--db", "c.db",
                                         "--snapshots", "mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=300"], in: dir)
        #expect(down.status == 0, "\(down.stderr)")
        #expect(down.stdout.contains(#""version":22"#), "\(down.stdout)")
    }

    @Test func theStoreOptionsExcludeEachOtherAndBadURLsAreUsageErrors() throws {
        let dir = try ESRunProcess.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        for arguments in [["--memory", "--mongodb", "mongodb://127.0.0.1/x"],
                          ["--postgres", "postgres://u@127.0.0.1/x", "--mongodb", "mongodb://127.0.0.1/x"],
                          ["--mongodb", "mongodb://127.0.0.1"], ["--mongodb", "mongodb://u:secret@127.0.0.1:bad/x"]] {
            let run = try ESRunProcess.run(["exec", "counter.lua", "Counter", "c1", "increment"] + arguments, in: dir)
            #expect(run.status == 2, "\(arguments): \(run.stdout) \(run.stderr)")
            #expect(!run.stderr.contains("secret"), "never echo a password: \(run.stderr)")
        }
        let down = try ESRunProcess.run(["exec", "counter.lua", "Counter", "c1", "increment",
                                         "--mongodb", "mongodb://u:secret@127.0.0.1:1/x?serverSelectionTimeoutMS=300"], in: dir)
        #expect(down.status == 8, "unavailable: \(down.stdout) \(down.stderr)")
        #expect(down.stderr.contains("cannot reach MongoDB at mongodb://u@127.0.0.1:1/x"), "\(down.stderr)")
        #expect(!down.stderr.contains("secret"))
    }
}

/// The MongoDB of the tests (`ESRUN_TEST_MONGODB_URL`, nx-27017 from scripts/test.sh).
enum MongoServer {
    static let url: String? = {
        let value = ProcessInfo.processInfo.environment["ESRUN_TEST_MONGODB_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if value == nil { FileHandle.standardError.write(Data("WARNING: esrun MongoDB tests SKIPPED: ESRUN_TEST_MONGODB_URL is not set\n".utf8)) }
        return value
    }()

    /// The server's URL with a database of its own.
    static func database(_ hint: String) -> String {
        var base = url ?? ""
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/" + hint + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    }
}
