import Foundation
import Logging
import LuaES
import LuaESCore
@testable import LuaESRedis
import LuaESStore
import LuaESTestSupport
import Testing

/// Redis going down and coming back, on a server of each test's own (the shared one stays up).
@Suite(.enabled(if: RedisTestServer.isAvailable, "needs redis-server (scripts/test.sh)"), .serialized)
struct RedisOutageTests {
    static let counter = """
        local Counter = aggregate("Counter", { initial = function() return { count = 0 } end })
        Counter:event("Incremented", { by = "integer" })
        function Counter.handle.increment(state, cmd) return Counter.Incremented{ by = cmd.by or 1 } end
        function Counter.replay.Incremented(state, ev) state.count = state.count + ev.by end
        return Counter
        """

    @Test func theStoreReconnectsAfterARestartAndNamesTheServerWhileItIsDown() throws {
        let server = try OwnRedisServer()
        let redis = try RedisSnapshotStore(configuration: RedisSnapshotStoreConfiguration(
            url: RedisTestServer.adding("connect_timeout=1", to: server.url)))
        defer { try? redis.close() }
        let stream = StreamID(aggregate: "Counter", key: "c1")
        try redis.saveSnapshot(Snapshot(stream: stream, version: 1, state: "{}", fingerprint: "f"))
        try server.down()
        do {
            _ = try redis.snapshot(of: stream)
            Issue.record("a read from a stopped server succeeded")
        } catch let error as StoreError {
            #expect(error.message.contains("Redis at \(redis.configuration.address)"), "\(error)")
        }
        try server.up()
        #expect(try redis.snapshot(of: stream) == nil, "the server restarted empty (nosave)")
        let two = Snapshot(stream: stream, version: 2, state: #"{"n":2}"#, fingerprint: "f")
        try redis.saveSnapshot(two)  // NOSCRIPT after the restart: EVAL takes over
        #expect(try redis.snapshot(of: stream) == two)
    }

    @Test func commandsSucceedWhileRedisIsDownAndSnapshotsResumeAfterwards() throws {
        let server = try OwnRedisServer()
        let redis = try RedisSnapshotStore(configuration: RedisSnapshotStoreConfiguration(
            url: RedisTestServer.adding("connect_timeout=1", to: server.url)))
        let statistics = SnapshotStoreStatistics()
        let store = SeparateSnapshotsEventStore(events: InMemoryEventStore(), snapshots: redis, name: "test redis",
                                                statistics: statistics, retryAfter: .milliseconds(20))
        var options = EngineOptions()
        options.snapshotEvery = 10
        options.cacheCapacity = 0  // every command loads: snapshot, then later events
        let engine = try makeEngine(Self.counter, options: options, store: store)
        defer { try? store.close() }
        let keys = ["k0", "k1", "k2"]
        var counts = [String: Int](uniqueKeysWithValues: keys.map { ($0, 0) })

        func run(_ commands: Int) throws {
            for i in 0..<commands {
                let key = keys[i % keys.count]
                let result = try engine.execute(aggregate: "Counter", key: key, command: "increment", args: #"{"by":2}"#)
                counts[key]! += 1
                #expect(result.version == Int64(counts[key]!))
                #expect(field(result.state, "count") as? Int == 2 * counts[key]!)
            }
        }

        try run(90)
        let k0 = StreamID(aggregate: "Counter", key: "k0")
        #expect(try redis.snapshot(of: k0)?.version == 30)
        #expect(statistics.failures == 0)

        try server.down()  // with the store's connections open
        try run(90)
        #expect(statistics.failures > 0, "the failures were counted")
        #expect(try engine.state(aggregate: "Counter", key: "k0").version == 60)

        try server.up()
        Thread.sleep(forTimeInterval: 0.05)  // past the back-off
        try run(30)
        let resumed = try redis.snapshot(of: k0)
        #expect(resumed?.version == 70, "a snapshot was saved after the restart")
        #expect(field(resumed?.state, "count") as? Int == 140)
        var coldOptions = options
        coldOptions.statistics = EngineStatistics()
        let cold = try makeEngine(Self.counter, options: coldOptions, store: store)
        #expect(field(try cold.state(aggregate: "Counter", key: "k0").state, "count") as? Int == 140)
        #expect(coldOptions.statistics?.replayedEvents == 0, "loaded from the snapshot in Redis, nothing replayed")
    }

    @Test func redisStoppedAndRestartedByAnotherThreadMidLoadFailsNoCommand() throws {
        let server = try OwnRedisServer()
        let redis = try RedisSnapshotStore(configuration: RedisSnapshotStoreConfiguration(
            url: RedisTestServer.adding("connect_timeout=1", to: server.url)))
        let store = SeparateSnapshotsEventStore(events: InMemoryEventStore(), snapshots: redis, retryAfter: .milliseconds(10))
        var options = EngineOptions()
        options.snapshotEvery = 5
        options.cacheCapacity = 0
        let engine = try makeEngine(Self.counter, options: options, store: store)
        defer { try? store.close() }
        let stop = DispatchSemaphore(value: 0), start = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let outage = Locked<[String]>([])
        Thread {
            // not in step with the commands: the server goes while loads and saves are in flight
            stop.wait()
            do { try server.down() } catch { outage.withLock { $0.append("down: \(error)") } }
            start.wait()
            do { try server.up() } catch { outage.withLock { $0.append("up: \(error)") } }
            done.signal()
        }.start()
        var failures: [String] = []
        for i in 1...400 {
            if i == 50 { stop.signal() }
            if i == 200 { start.signal() }
            if i == 300 { done.wait() }
            do {
                let result = try engine.execute(aggregate: "Counter", key: "k\(i % 4)", command: "increment")
                if result.version != Int64((i - 1) / 4 + 1) { failures.append("command \(i): version \(result.version)") }
            } catch {
                failures.append("command \(i): \(error)")
            }
        }
        #expect(outage.current.isEmpty)
        #expect(failures.isEmpty, "\(failures.prefix(5))")
        #expect(store.statistics.failures > 0, "the outage was seen")
        Thread.sleep(forTimeInterval: 0.05)
        for _ in 0..<20 { _ = try engine.execute(aggregate: "Counter", key: "k1", command: "increment") }
        #expect(try redis.snapshot(of: StreamID(aggregate: "Counter", key: "k1"))?.version == 120, "snapshots resumed")
    }
}
