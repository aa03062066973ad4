import Foundation
import LuaESStore

/// Wall-clock and CPU seconds of one measured step.
struct Timing {
    var wall = 0.0
    var cpu = 0.0
}

/// The time `body` takes, on the wall clock and in CPU time of this process: on a busy
/// machine the second says what the store would do with a core to itself.
func seconds(_ body: () throws -> Void) rethrows -> Timing {
    let start = (ContinuousClock.now, cpuSeconds())
    try body()
    let elapsed = ContinuousClock.now - start.0
    return Timing(wall: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                  cpu: cpuSeconds() - start.1)
}

func cpuSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func rate(_ count: Int, _ time: Timing) -> String {
    String(format: "%.0f/s (%d in %.3f s; %.0f per CPU second)", Double(count) / time.wall, count, time.wall,
           Double(count) / time.cpu)
}

/// Measures the SQLite store on a fresh file at `path` (deleted first) and prints the numbers.
func bench(path: String) throws {
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    let event = NewEvent(type: "Incremented", data: #"{"by":1}"#)
    let bulk = StreamID(aggregate: "Bench", key: "bulk")
    var store = try SQLiteEventStore(path: path)

    let batch = Array(repeating: event, count: 1000)
    let bulkTime = try seconds {
        for round in 0..<1000 { try store.append(batch, to: bulk, expectedVersion: Int64(round) * 1000) }
    }
    emit("bulk append, batches of 1000:      " + rate(1_000_000, bulkTime))

    for durability in [SQLiteEventStore.Durability.normal, .full] {
        let single = try SQLiteEventStore(path: path, durability: durability)
        let stream = StreamID(aggregate: "Bench", key: "single-\(durability)")
        let count = durability == .normal ? 20_000 : 2_000
        let singleTime = try seconds {
            for version in 0..<count { try single.append([event], to: stream, expectedVersion: Int64(version)) }
        }
        try single.close()
        emit("one event per transaction (\(durability)):  " + rate(count, singleTime))
    }

    let streams = (0..<100).map { StreamID(aggregate: "Bench", key: "group-\($0)") }
    let ten = Array(repeating: event, count: 10)
    let groupTime = try seconds {
        for round in 0..<200 {
            let batches = streams.map { AppendBatch(stream: $0, expectedVersion: Int64(round) * 10, events: ten) }
            for result in try store.append(batches: batches) { _ = try result.get() }
        }
    }
    emit("group commit, 100 streams x 10:    " + rate(200 * 1000, groupTime) + " events, "
        + rate(200, groupTime) + " transactions")

    try store.saveSnapshot(Snapshot(stream: bulk, version: 1_000_000, state: #"{"count":1000000}"#, fingerprint: "f1"))
    try store.close()
    // Cold: a new store, so new connections with empty page caches (the OS cache stays warm).
    store = try SQLiteEventStore(path: path)
    var count = 0
    let coldTime = try seconds { count = try store.events(of: bulk).count }
    emit("cold read of 1,000,000 (new store): " + rate(count, coldTime))
    let warmTime = try seconds { count = try store.events(of: bulk).count }
    emit("warm read of 1,000,000:            " + rate(count, warmTime))
    let feedTime = try seconds { count = try store.events(after: 0, limit: 1_000_000).count }
    emit("feed read of 1,000,000:            " + rate(count, feedTime))

    try store.close()
    store = try SQLiteEventStore(path: path)
    var snapshot: Snapshot?
    let firstLookup = try seconds { snapshot = try store.snapshot(of: bulk) }
    guard snapshot?.version == 1_000_000 else { fail("bench: snapshot lost") }
    let lookups = 10_000
    let lookupTime = try seconds { for _ in 0..<lookups { snapshot = try store.snapshot(of: bulk) } }
    var version: Int64 = 0
    let versionTime = try seconds { for _ in 0..<lookups { version = try store.version(of: bulk) } }
    guard version == 1_000_000 else { fail("bench: version is \(version)") }
    var tail = 0
    let tailTime = try seconds {
        for _ in 0..<lookups { tail = try store.events(of: bulk, after: 999_990).count }
    }
    emit(String(format: "snapshot lookup: first %.1f µs, then %.1f µs; version(of:) %.1f µs; "
        + "10 events after the snapshot %.1f µs", firstLookup.wall * 1e6, lookupTime.wall / Double(lookups) * 1e6,
        versionTime.wall / Double(lookups) * 1e6, tailTime.wall / Double(lookups) * 1e6) + " (\(tail))")
    try store.close()
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    emit("file size: \(size / 1_048_576) MiB")
}
