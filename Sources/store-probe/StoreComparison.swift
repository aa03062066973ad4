import Foundation
import LuaES
import LuaESDynamo
import LuaESStore
import LuaESPostgres

/// `store-probe compare POSTGRES_URL|DYNAMODB_URL [SCALE]`: the same small workloads on a fresh
/// SQLite file and on a fresh PostgreSQL schema (or a fresh DynamoDB table named after the URL's
/// with a random suffix, created), side by side: appends per second (one thread, and
/// eight threads on streams of their own) and commands per second through the engine (one
/// thread over 100 counters, and four threads each with its own engine, as `esrun serve`'s
/// workers). SCALE (default 1) multiplies the counts (0.1 for moto, whose transactions copy the
/// table). `store-probe postgres` runs the PostgreSQL half alone, its schema dropped at the end
/// (`scripts/bench.sh postgres`).
func compareStores(postgresURL: String, scale: Double, sqlite: Bool = true) throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-probe-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }  // only temporary files are at stake
    let script = directory.appendingPathComponent("counter.lua").path
    try """
        local Counter = aggregate("Counter", { initial = function() return { count = 0 } end })
        Counter:event("Incremented", { by = "integer" })
        function Counter.handle.increment(state, cmd) return Counter.Incremented{ by = cmd.by or 1 } end
        function Counter.replay.Incremented(state, ev) state.count = state.count + ev.by end
        return Counter
        """.write(toFile: script, atomically: true, encoding: .utf8)

    let suffix = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16)
    let separator = postgresURL.contains("?") ? "&" : "?"
    let other: (name: String, open: () throws -> EventStore)
    if postgresURL.hasPrefix("dynamodb://") {
        var configuration = try DynamoStoreConfiguration(url: postgresURL)
        configuration.table += "-probe-" + suffix
        configuration.create = true
        other = ("DynamoDB (table \(configuration.table) at \(configuration.endpoint.absoluteString))", {
            try DynamoEventStore(configuration: configuration)
        })
    } else {
        other = ("PostgreSQL (schema probe_\(suffix))", { try PostgresEventStore(url: postgresURL + separator + "schema=probe_" + suffix) })
    }
    var stores: [(name: String, open: () throws -> EventStore)] = [
        ("SQLite (WAL, synchronous=NORMAL)", { try SQLiteEventStore(path: directory.appendingPathComponent("probe.db").path) }),
        other,
    ]
    if !sqlite { stores.removeFirst() }
    for (name, open) in stores {
        let store = try open()
        emit("\(name):")
        let count = max(Int(2_000 * scale), 8)
        do {
            try measureAppends(store, count: count)
            try measureCommands(store, script: script, count: count)
        } catch {
            try? (store as? PostgresEventStore)?.dropSchema()  // the measuring error is the one to report
            throw error
        }
        if !sqlite { try (store as? PostgresEventStore)?.dropSchema() }
        try store.close()
    }
}

/// Single-event appends: one thread, then eight threads on streams of their own.
private func measureAppends(_ store: EventStore, count: Int) throws {
    let event = NewEvent(type: "Incremented", data: #"{"by":1}"#)
    let one = StreamID(aggregate: "Bench", key: "one")
    let serial = try seconds {
        for version in 0..<count { try store.append([event], to: one, expectedVersion: Int64(version)) }
    }
    emit("  appends, 1 thread:                 " + rate(count, serial))
    let threads = 8
    let failure = FailureBox()
    let parallel = seconds {
        runOnThreads(threads) { thread in
            let stream = StreamID(aggregate: "Bench", key: "thread-\(thread)")
            do {
                for version in 0..<(count / threads) { try store.append([event], to: stream, expectedVersion: Int64(version)) }
            } catch { failure.record(error) }
        }
    }
    try failure.check()
    emit("  appends, 8 threads:                " + rate(count / threads * threads, parallel))
}

/// Commands through the engine (hydrate from its cache, run the Lua handler, append).
private func measureCommands(_ store: EventStore, script: String, count: Int) throws {
    let engine = try Engine(store: store)
    try engine.load(script: script, display: "counter.lua")
    let serial = try seconds {
        for i in 0..<count { _ = try engine.execute(aggregate: "Counter", key: "seq-\(i % 100)", command: "increment") }
    }
    emit("  commands, 1 engine:                " + rate(count, serial))
    let threads = 4
    let failure = FailureBox()
    let parallel = seconds {
        runOnThreads(threads) { thread in
            do {
                let engine = try Engine(store: store)
                try engine.load(script: script, display: "counter.lua")
                for i in 0..<(count / threads) {
                    _ = try engine.execute(aggregate: "Counter", key: "par-\(thread)-\(i % 25)", command: "increment")
                }
            } catch { failure.record(error) }
        }
    }
    try failure.check()
    emit("  commands, 4 engines on 4 threads:  " + rate(count / threads * threads, parallel))
}

/// Runs `body(0..<count)` each on a thread of its own and waits for all.
private func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// The first error of several threads.
private final class FailureBox: @unchecked Sendable {
    // @unchecked: `error` is only read and written while `lock` is held.
    private let lock = NSLock()
    private var error: (any Error)?

    func record(_ error: any Error) { lock.withLock { if self.error == nil { self.error = error } } }
    func check() throws { if let error = lock.withLock({ error }) { throw error } }
}
