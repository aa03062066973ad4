// store-probe: drives a SQLiteEventStore from its own process, for the crash and
// two-process tests (Tests/LuaESTests/CrashTests.swift) and for measuring by hand.
//
//   store-probe append-loop DBPATH KEY [KEY...]   append batches of 1...5 events forever
//   store-probe compete DBPATH KEY N [P]         N single-event appends, racing P-1 other processes
//   store-probe bench DBPATH                     throughput numbers (deletes DBPATH first)
//   store-probe compare URL [SCALE]              appends/s and commands/s, SQLite beside PostgreSQL
//                                                or DynamoDB (URL postgres://... or dynamodb://...)
//   store-probe postgres POSTGRES_URL [SCALE]    the PostgreSQL half of compare alone (schema dropped after)
//   store-probe pg-latency POSTGRES_URL [N]     where one append's time goes (round trips, bridge, CALL)
//   store-probe pg-writers POSTGRES_URL T N      T threads appending N times each (the two-process feed test)
//   store-probe snapshot-load REDIS_URL [N] [R]  cold loads of an N-event aggregate: replay, Redis and SQLite snapshots
//
// Every acknowledged commit is printed as soon as `append` returns, one unbuffered line each.
import Foundation
import LuaESStore

/// The aggregate every probe stream belongs to.
let probeAggregate = "Probe"

/// Writes one line to stdout at once (no buffering), so a SIGKILL loses nothing printed.
func emit(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data(("store-probe: " + message + "\n").utf8))
    exit(2)
}

/// Appends forever. Each commit is tagged `<pid>-<n>` and each of its events carries the
/// commit tag, the number of batches in the commit, its batch, the batch size and its index
/// in the batch, so a reader can tell whether a commit is whole. With several keys, every
/// other commit is a group commit over two streams. Prints `ack <key> <lastVersion>` per batch.
func appendLoop(path: String, keys: [String]) throws {
    let store = try SQLiteEventStore(path: path)
    let pid = ProcessInfo.processInfo.processIdentifier
    var versions: [String: Int64] = [:]
    for key in keys { versions[key] = try store.version(of: StreamID(aggregate: probeAggregate, key: key)) }
    var generator = SystemRandomNumberGenerator()
    for commit in 1... {
        let tag = "\(pid)-\(commit)"
        let group = keys.count > 1 && commit % 2 == 0 ? Array(keys.shuffled(using: &generator).prefix(2)) : [keys.randomElement(using: &generator)!]
        let batches = group.enumerated().map { batchIndex, key in
            let size = Int.random(in: 1...5, using: &generator)
            let events = (0..<size).map { index in
                NewEvent(type: "Probed", data: #"{"commit":"\#(tag)","batches":\#(group.count),"batch":\#(batchIndex),"size":\#(size),"index":\#(index)}"#)
            }
            return AppendBatch(stream: StreamID(aggregate: probeAggregate, key: key),
                               expectedVersion: versions[key]!, events: events)
        }
        if batches.count == 1 {
            let recorded = try store.append(batches[0].events, to: batches[0].stream, expectedVersion: batches[0].expectedVersion)
            versions[batches[0].stream.key] = recorded.last!.version
        } else {
            for result in try store.append(batches: batches) {
                let recorded = try result.get()
                versions[recorded[0].stream.key] = recorded.last!.version
            }
        }
        for batch in batches { emit("ack \(batch.stream.key) \(versions[batch.stream.key]!)") }
    }
}

/// Appends `count` events to `key` one at a time: read the version, append at it, and on
/// a conflict report it and try again. Prints `ack <key> <version>`, `conflict <expected>
/// <actual>`, and finally `done <acks> <conflicts>`. With `processes` > 1 it first waits
/// until that many probes have checked in (in stream `start-<key>`), so that they race.
func compete(path: String, key: String, count: Int, processes: Int) throws {
    let store = try SQLiteEventStore(path: path)
    let stream = StreamID(aggregate: probeAggregate, key: key)
    let pid = ProcessInfo.processInfo.processIdentifier
    if processes > 1 { try waitForEveryone(store, key: key, processes: processes) }
    var acks = 0, conflicts = 0
    while acks < count {
        let version = try store.version(of: stream)
        // A pause between reading and appending widens the window in which another
        // process can take the version, as a slow command handler would.
        usleep(UInt32.random(in: 0...200))
        do {
            let recorded = try store.append([NewEvent(type: "Competed", data: #"{"pid":\#(pid)}"#)],
                                            to: stream, expectedVersion: version)
            acks += 1
            emit("ack \(key) \(recorded[0].version)")
        } catch let error as StoreError where error.isConflict {
            conflicts += 1
            emit("conflict \(error.conflict!.expected) \(error.conflict!.actual)")
        }
    }
    try store.close()
    emit("done \(acks) \(conflicts)")
}

/// Checks in at the start line and waits (30 s at most) for `processes` check-ins.
func waitForEveryone(_ store: SQLiteEventStore, key: String, processes: Int) throws {
    let start = StreamID(aggregate: probeAggregate, key: "start-\(key)")
    while true {
        do {
            try store.append([NewEvent(type: "Ready", data: "{}")], to: start, expectedVersion: try store.version(of: start))
            break
        } catch let error as StoreError where error.isConflict {
            continue
        }
    }
    let deadline = ContinuousClock.now + .seconds(30)
    while try store.version(of: start) < processes {
        guard ContinuousClock.now < deadline else { fail("compete: the other processes did not start") }
        usleep(1000)
    }
}

let arguments = CommandLine.arguments
do {
    switch (arguments.count > 1 ? arguments[1] : "", arguments.count) {
    case ("append-loop", 4...):
        try appendLoop(path: arguments[2], keys: Array(arguments[3...]))
    case ("compete", 5...6):
        guard let count = Int(arguments[4]), count > 0 else { fail("compete: N must be a positive number") }
        guard let processes = Int(arguments.count == 6 ? arguments[5] : "1"), processes > 0 else {
            fail("compete: P must be a positive number")
        }
        try compete(path: arguments[2], key: arguments[3], count: count, processes: processes)
    case ("bench", 3):
        try bench(path: arguments[2])
    case ("compare", 3...4):
        guard let scale = Double(arguments.count == 4 ? arguments[3] : "1"), scale >= 0.01 else { fail("compare: SCALE must be a number of at least 0.01") }
        try compareStores(postgresURL: arguments[2], scale: scale)
    case ("postgres", 3...4):
        guard let scale = Int(arguments.count == 4 ? arguments[3] : "1"), scale > 0 else { fail("postgres: SCALE must be a positive number") }
        try compareStores(postgresURL: arguments[2], scale: Double(scale), sqlite: false)
    case ("pg-latency", 3...4):
        guard let count = Int(arguments.count == 4 ? arguments[3] : "2000"), count > 0 else { fail("pg-latency: N must be a positive number") }
        try postgresLatency(url: arguments[2], count: count)
    case ("pg-writers", 5):
        guard let threads = Int(arguments[3]), threads > 0, let appends = Int(arguments[4]), appends > 0 else {
            fail("pg-writers: T and N must be positive numbers")
        }
        try postgresWriters(url: arguments[2], threads: threads, appends: appends)
    case ("snapshot-load", 3...5):
        guard let events = Int(arguments.count >= 4 ? arguments[3] : "100000"), events > 0,
              let rounds = Int(arguments.count == 5 ? arguments[4] : "30"), rounds > 0 else {
            fail("snapshot-load: EVENTS and ROUNDS must be positive numbers")
        }
        try snapshotLoad(redisURL: arguments[2], events: events, rounds: rounds)
    default:
        fail("usage: store-probe append-loop DBPATH KEY [KEY...] | compete DBPATH KEY N [P] | bench DBPATH | compare POSTGRES_URL [SCALE] | postgres POSTGRES_URL [SCALE] | pg-latency POSTGRES_URL [N] | pg-writers POSTGRES_URL T N | snapshot-load REDIS_URL [EVENTS] [ROUNDS]")
    }
} catch {
    fail("\(error)")
}
