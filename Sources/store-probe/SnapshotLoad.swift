import Foundation
import LuaES
import LuaESRedis
import LuaESStore

/// `store-probe snapshot-load REDIS_URL [EVENTS] [ROUNDS]`: the time of a cold load (no
/// cache) of one aggregate of EVENTS events (default 100,000) in SQLite: replaying every
/// event, from a snapshot in Redis, and from a snapshot in the SQLite file, in one run.
/// Prints min, median, p90 and max of ROUNDS loads each (default 30; a tenth for replays).
func snapshotLoad(redisURL: String, events count: Int, rounds: Int) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-probe-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }  // only temporary files are at stake
    let script = directory.appendingPathComponent("tally.lua").path
    // a state of some size: a count, a sum and the last 50 amounts (about 200 bytes of JSON)
    try """
        local Tally = aggregate("Tally", { initial = function() return { count = 0, sum = 0, recent = {} } end })
        Tally:event("Added", { amount = "integer" })
        function Tally.handle.add(state, cmd) return Tally.Added{ amount = cmd.amount or 1 } end
        function Tally.replay.Added(state, ev)
          state.count = state.count + 1
          state.sum = state.sum + ev.amount
          table.insert(state.recent, ev.amount)
          if #state.recent > 50 then table.remove(state.recent, 1) end
        end
        return Tally
        """.write(toFile: script, atomically: true, encoding: .utf8)

    let sqlite = try SQLiteEventStore(path: directory.appendingPathComponent("load.db").path)
    let stream = StreamID(aggregate: "Tally", key: "big")
    let fill = try seconds {
        for start in stride(from: 0, to: count, by: 1000) {
            let events = (start..<min(start + 1000, count)).map { NewEvent(type: "Added", data: #"{"amount":\#($0 % 97)}"#) }
            try sqlite.append(events, to: stream, expectedVersion: Int64(start))
        }
    }
    emit(String(format: "%d events appended to SQLite in %.1f s", count, fill.wall))

    let prefix = "probe" + UUID().uuidString.prefix(8).lowercased()
    let redis = try RedisSnapshotStore(configuration: RedisSnapshotStoreConfiguration(
        url: redisURL + (redisURL.contains("?") ? "&" : "?") + "prefix=" + prefix))
    let routed = SeparateSnapshotsEventStore(events: sqlite, snapshots: redis, name: "redis")

    var options = EngineOptions()
    options.cacheCapacity = 0  // every read hydrates from the store
    options.snapshotEvery = 0  // and writes no snapshot of its own
    let replaying = try Engine(store: sqlite, options: options)
    try replaying.load(script: script, display: "tally.lua")
    let full = try replaying.state(aggregate: "Tally", key: "big")
    let fingerprint = replaying.domain.aggregates[0].fingerprint
    let snapshot = Snapshot(stream: stream, version: full.version, state: full.state, fingerprint: fingerprint)
    emit("state at version \(full.version): \(full.state.utf8.count) bytes of JSON")

    let replayTimes = try (0..<max(rounds / 10, 3)).map { _ in
        try seconds { _ = try replaying.state(aggregate: "Tally", key: "big") }.wall
    }
    report("replay all \(count) events (no snapshot):", replayTimes)

    try redis.saveSnapshot(snapshot)
    let fromRedis = try Engine(store: routed, options: options)
    try fromRedis.load(script: script, display: "tally.lua")
    let redisTimes = try (0..<rounds).map { _ in
        try seconds {
            let state = try fromRedis.state(aggregate: "Tally", key: "big")
            guard state == full else { fail("the state from the Redis snapshot differs") }
        }.wall
    }
    report("snapshot in Redis (+0 events):", redisTimes)

    try sqlite.saveSnapshot(snapshot)
    let fromSQLite = try Engine(store: sqlite, options: options)
    try fromSQLite.load(script: script, display: "tally.lua")
    let sqliteTimes = try (0..<rounds).map { _ in
        try seconds {
            let state = try fromSQLite.state(aggregate: "Tally", key: "big")
            guard state == full else { fail("the state from the SQLite snapshot differs") }
        }.wall
    }
    report("snapshot in SQLite (+0 events):", sqliteTimes)

    let direct = try (0..<rounds).map { _ in try seconds { _ = try redis.snapshot(of: stream) }.wall }
    report("  of which the Redis read (HMGET):", direct)
    if routed.statistics.failures > 0 { fail("the Redis snapshot store failed \(routed.statistics.failures) times") }
    try routed.close()
}

private func report(_ label: String, _ times: [Double]) {
    let sorted = times.sorted()
    let pick = { (q: Double) in sorted[min(sorted.count - 1, Int(Double(sorted.count - 1) * q))] * 1000 }
    emit(String(format: "%@ min %.3f ms, median %.3f ms, p90 %.3f ms, max %.3f ms (%d loads)",
                label.padding(toLength: 44, withPad: " ", startingAt: 0), pick(0), pick(0.5), pick(0.9), pick(1), sorted.count))
}
