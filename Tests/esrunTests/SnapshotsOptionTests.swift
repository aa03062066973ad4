import Foundation
import LuaESRedis
import LuaESStore
import LuaESTestSupport
import Testing

/// `--snapshots URL` on the built binary: snapshots go to Redis, a bad URL is a usage error,
/// a Redis that is down never fails a command and shows in `/metrics`.
@Suite struct SnapshotsOptionTests {
    @Test(.enabled(if: RedisTestServer.isAvailable, "needs ESRUN_TEST_REDIS_URL (scripts/test.sh)"))
    func execAndStateKeepSnapshotsInRedis() throws {
        let dir = try ESRunProcess.workspace()
        let url = RedisTestServer.adding("prefix=\(RedisTestServer.freshPrefix())", to: RedisTestServer.url!)
        for version in 1...25 {
            let run = try ESRunProcess.run(["exec", "counter.lua", "Counter", "c 1 ✓", "increment", "--db", "c.db",
                                            "--snapshots", url], in: dir)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains(#""version":\#(version)"#), "\(run.stdout)")
        }
        let redis = try RedisSnapshotStore(configuration: RedisSnapshotStoreConfiguration(url: url))
        defer { try? redis.close() }
        let snapshot = try redis.snapshot(of: StreamID(aggregate: "Counter", key: "c 1 ✓"))
        #expect(snapshot?.version == 20, "counter.lua snapshots every 10 events")
        #expect(field(snapshot?.state, "count") as? Int == 20)

        let sqlite = try SQLiteEventStore(path: dir.appendingPathComponent("c.db").path)
        #expect(try sqlite.snapshot(of: StreamID(aggregate: "Counter", key: "c 1 ✓")) == nil, "none in the event store")
        try sqlite.close()

        let state = try ESRunProcess.run(["state", "counter.lua", "Counter", "c 1 ✓", "--db", "c.db", "--snapshots", url], in: dir)
        #expect(state.status == 0, "\(state.stderr)")
        #expect(state.stdout.contains(#""count":25"#), "\(state.stdout)")

        let verify = try ESRunProcess.run(["verify", "counter.lua", "--db", "c.db", "--snapshots", url], in: dir)
        #expect(verify.status == 0, "\(verify.stderr)")
        #expect(verify.stdout.contains("1 streams verified, 0 problems (1 snapshot checked)"), "\(verify.stdout)")
        let down = try ESRunProcess.run(["verify", "counter.lua", "--db", "c.db", "--snapshots",
                                         "redis://127.0.0.1:1/0?connect_timeout=1"], in: dir)
        #expect(down.status != 0, "verify reports a snapshot store it cannot read: \(down.stdout)")
        #expect(down.stdout.contains("cannot connect to Redis at 127.0.0.1:1"), "\(down.stdout) \(down.stderr)")
    }

    @Test(arguments: ["memcached://127.0.0.1", "127.0.0.1:6379", "redis://h?ttl=soon", "redis://h/x", "rediss://h?tls_verify=maybe"])
    func aBadURLIsAUsageError(_ url: String) throws {
        let dir = try ESRunProcess.workspace()
        let run = try ESRunProcess.run(["exec", "counter.lua", "Counter", "c1", "increment", "--memory", "--snapshots", url], in: dir)
        #expect(run.status == 2, "\(run.stdout) \(run.stderr)")
        #expect(run.stderr.contains("bad_url: --snapshots"), "\(run.stderr)")
        #expect(!run.stderr.contains("Fatal error"))
    }

    @Test func aRedisThatIsDownNeverFailsACommand() throws {
        let dir = try ESRunProcess.workspace()
        for version in 1...12 {
            let run = try ESRunProcess.run(["exec", "counter.lua", "Counter", "c1", "increment", "--db", "c.db",
                                            "--snapshots", "redis://127.0.0.1:1/0?connect_timeout=1"], in: dir)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stdout.contains(#""version":\#(version)"#))
            if version == 10 {
                #expect(run.stderr.contains("snapshot store failed"), "logged: \(run.stderr)")
                #expect(run.stderr.contains("127.0.0.1:1"), "names the server: \(run.stderr)")
            }
        }
    }

    @Test func serveCountsSnapshotStoreFailuresInMetrics() async throws {
        let dir = try ESRunProcess.workspace()
        let server = try ServerProcess(script: "counter.lua", in: dir,
                                       arguments: ["--memory", "--snapshots", "redis://127.0.0.1:1/0?connect_timeout=1"])
        defer { server.stop() }
        for _ in 1...12 {
            #expect(try await server.post("/Counter/c1/increment").status == 200)
        }
        let metrics = try await server.get("/metrics").body
        let line = metrics.split(separator: "\n").first { $0.hasPrefix("esrun_snapshot_store_failures_total ") }
        let failures = line.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        #expect(failures >= 1, "\(metrics)")
        #expect(metrics.contains("esrun_snapshot_store_skipped_total "))
    }
}
