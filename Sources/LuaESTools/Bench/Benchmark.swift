import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// The workloads of `esrun bench`: what users feel, measured on the real engine and store.
public struct Benchmark {
    public struct Settings: Sendable {
        /// Events in the replayed aggregate and in the bulk append.
        public var events = 1_000_000
        /// Commands in the sequential workload.
        public var commands = 100_000
        /// Commands in the concurrent workload and aggregates they spread over.
        public var concurrentCommands = 100_000
        public var keys = 10_000
        /// Engine threads (one Lua state each) and Swift tasks submitting to them.
        public var workers = 2
        public var tasks = 256
        /// The esrun binary to serve HTTP with (`esrun serve --port 0`); HTTP is skipped when nil.
        public var executable: String?
        /// How long wrk drives each HTTP workload, and with how many connections.
        public var httpSeconds = 10
        public var connections = 64
        /// SQLite file to use (created afresh); a temporary file when nil.
        public var path: String?
        /// Another store to measure instead of SQLite (`esrun bench --postgres`).
        public var store: BenchStore?
        /// Run only the workloads whose names contain one of these (all when empty); the bulk
        /// append runs when a selected workload reads what it wrote.
        public var only: [String] = []
        public init() {}
    }

    /// One measured figure.
    public struct Figure: Sendable {
        public var name: String
        public var value: Double
        public var unit: String
        public var detail: String
    }

    public let settings: Settings
    let report: (Figure) -> Void
    /// Called as a long workload goes, with its name and the fraction done (0...1).
    let progress: (String, Double) -> Void

    public init(settings: Settings, report: @escaping (Figure) -> Void,
                progress: @escaping (String, Double) -> Void = { _, _ in }) {
        self.settings = settings
        self.report = report
        self.progress = progress
    }

    /// The names of the figures `run` reports, in order (for tests and the peer comparison).
    public static let workloads = [
        "bulk append (batches of 1000)", "cold replay", "cold replay, exact instruction budget",
        "VM-bound replay, watchdog", "VM-bound replay, instruction budget", "load with snapshots every 100",
        "sequential commands on 100 counters", "sequential commands, in-memory store",
        "commands emitting 1000 events", "commands emitting 1000 events, in memory", "projection catch-up",
        "concurrent commands on 10,000 counters", "HTTP ceiling: bare Hummingbird route", "HTTP commands, one hot counter",
        "HTTP commands on 10,000 counters", "bytes per event on disk", "peak memory", "peak memory, server",
    ]

    /// The bench domain (Sources/CToolScripts/lua/bench_domain.lua, compiled in).
    static let domain = ToolScript.text("bench_domain")

    /// Runs every workload, reporting figures as they come.
    public func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("esrun-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("bench.lua").path
        try Self.domain.write(toFile: script, atomically: true, encoding: .utf8)
        let path = settings.path ?? dir.appendingPathComponent("bench.db").path
        let store: EventStore
        if let external = settings.store {
            defer { external.cleanUp() }
            report(Figure(name: "store", value: 0, unit: "text", detail: external.description))
            store = try external.open("bench")
            defer { try? store.close() }
            try await workloads(store: store, script: script, dir: dir)
            return
        }
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        store = try SQLiteEventStore(path: path)
        defer { try? store.close() }
        report(Figure(name: "store", value: 0, unit: "text", detail: "SQLite (WAL, synchronous=NORMAL) at \(path)"))
        try await workloads(store: store, script: script, dir: dir)
    }

    /// Whether `--only` selects the workload called `label`.
    func wants(_ label: String) -> Bool {
        settings.only.isEmpty || settings.only.contains { label.localizedCaseInsensitiveContains($0) }
    }

    private func workloads(store: EventStore, script: String, dir: URL) async throws {
        try storeWorkloads(store: store, script: script)
        if wants("projection catch-up") { try projectionCatchUp(store: store, script: script) }
        if wants("concurrent commands on 10,000 counters") { try await concurrentCommands(store: store, script: script) }
        if [Self.ceilingLabel, Self.hotLabel, Self.spreadLabel, "peak memory, server"].contains(where: wants) {
            try httpCommands(script: script, dir: dir)
        }
        if wants(Self.footprintLabel) { try storageFootprint(script: script, dir: dir) }
        report(Figure(name: "peak memory", value: Double(Self.peakMemoryKiB()) / 1024, unit: "MiB",
                      detail: "VmHWM of the bench process"))
    }

    /// Bulk append, cold replays, snapshot loads and sequential commands on `store`.
    private func storeWorkloads(store: EventStore, script: String) throws {
        let n = settings.events
        let stream = StreamID(aggregate: "Counter", key: "big")
        let batch = Array(repeating: NewEvent(type: "Incremented", data: #"{"by":1}"#, meta: #"{"command":"increment"}"#), count: 1000)
        let readers = ["bulk append (batches of 1000)", "cold replay", "cold replay, exact instruction budget",
                       "load with snapshots every 100", "projection catch-up",
                       "VM-bound replay, watchdog", "VM-bound replay, instruction budget"]
        guard readers.contains(where: wants) else { return try commandWorkloads(store: store, script: script) }
        let appendTime = try Self.seconds {
            var version: Int64 = 0
            while version < Int64(n) {
                let size = min(1000, n - Int(version))
                try store.append(Array(batch.prefix(size)), to: stream, expectedVersion: version)
                version += Int64(size)
                if version % 100_000 == 0 { progress("bulk append", Double(version) / Double(n)) }
            }
        }
        report(Figure(name: "bulk append (batches of 1000)", value: Double(n) / appendTime, unit: "events/s",
                      detail: "\(n) events in \(Self.format(appendTime)) s"))

        for (label, instructions) in [("cold replay", 0), ("cold replay, exact instruction budget", 100_000_000)]
        where wants(label) {
            var options = EngineOptions()
            options.limits.replay.instructions = instructions
            let engine = try Engine(store: store, options: options)
            try engine.load(script: script, display: "bench.lua")
            var result: StateResult?
            let time = try Self.seconds { result = try engine.state(aggregate: "Counter", key: "big") }
            guard result?.state == #"{"count":\#(n)}"# else { throw EngineError.invalid("bench", "wrong state \(result?.state ?? "")") }
            report(Figure(name: label, value: Double(n) / time, unit: "events/s", detail: "\(n) events in \(Self.format(time)) s"))
        }

        if ["VM-bound replay, watchdog", "VM-bound replay, instruction budget"].contains(where: wants) { try vmBoundReplay(script: script, batch: batch) }
        if wants("load with snapshots every 100") { try snapshotLoads(store: store, from: stream, script: script) }
        try commandWorkloads(store: store, script: script)
    }

    /// Sequential and emitting commands, on `store` and in memory.
    private func commandWorkloads(store: EventStore, script: String) throws {
        let sequential = "sequential commands on 100 counters", sequentialMemory = "sequential commands, in-memory store"
        if wants(sequential) { try sequentialCommands(store: store, script: script, label: sequential) }
        if wants(Self.emittingLabel) { try emittingCommands(store: store, script: script, label: Self.emittingLabel) }
        for label in [sequentialMemory, Self.emittingMemoryLabel] where wants(label) {
            if settings.store != nil {
                report(Figure(name: label, value: 0, unit: "skipped", detail: Self.inMemoryOnly))
            } else if label == sequentialMemory {
                try sequentialCommands(store: InMemoryEventStore(), script: script, label: label)
            } else {
                try emittingCommands(store: InMemoryEventStore(), script: script, label: label)
            }
        }
    }

    static let inMemoryOnly = "in-memory store by design (measures the engine and Lua, not the store): see the SQLite run"

    /// A replay function that computes (100 loop iterations per event): here the VM is
    /// the bound, which shows what an exact instruction budget (a count hook) costs.
    private func vmBoundReplay(script: String, batch: [NewEvent]) throws {
        guard settings.store == nil else {
            for label in ["VM-bound replay, watchdog", "VM-bound replay, instruction budget"] {
                report(Figure(name: label, value: 0, unit: "skipped", detail: Self.inMemoryOnly))
            }
            return
        }
        let n = settings.events
        let heavyEvents = max(n / 10, 1)
        let memory = InMemoryEventStore()
        var heavyVersion: Int64 = 0
        let heavy = StreamID(aggregate: "Heavy", key: "h")
        while heavyVersion < Int64(heavyEvents) {
            let size = min(1000, heavyEvents - Int(heavyVersion))
            try memory.append(Array(batch.prefix(size)), to: heavy, expectedVersion: heavyVersion)
            heavyVersion += Int64(size)
        }
        var heavyTimes: [String: Double] = [:]
        for round in 0..<3 {
            for (label, instructions) in [("watchdog", 0), ("instruction budget", 1_000_000_000)] {
                var options = EngineOptions()
                options.limits.replay.instructions = instructions
                let engine = try Engine(store: memory, options: options)
                try engine.load(script: script, display: "bench.lua")
                let time = try Self.seconds { _ = try engine.state(aggregate: "Heavy", key: "h") }
                heavyTimes[label] = round == 0 ? time : min(heavyTimes[label]!, time)
            }
        }
        for (label, time) in heavyTimes.sorted(by: { $0.key > $1.key }) {
            report(Figure(name: "VM-bound replay, \(label)", value: Double(heavyEvents) / time, unit: "events/s",
                          detail: "100 loop iterations per event, in-memory store, best of 3"))
        }
    }

    /// The same history under an aggregate that snapshots every 100 events:
    /// the latest snapshot is at most 99 events behind, so a load reads it plus those.
    private func snapshotLoads(store: EventStore, from stream: StreamID, script: String) throws {
        let n = settings.events
        let snapped = StreamID(aggregate: "Snapped", key: "big")
        var copied: Int64 = 0
        while copied < Int64(n) {
            let page = try store.events(of: stream, after: copied, upTo: nil, limit: 10_000)
            try store.append(page.map { NewEvent(type: $0.type, data: $0.data, meta: $0.meta) }, to: snapped, expectedVersion: copied)
            copied += Int64(page.count)
        }
        let writer = try Engine(store: store)
        try writer.load(script: script, display: "bench.lua")
        let behind = Int64(n) - Int64(n % 100 == 0 ? 99 : n % 100)
        let at = try writer.state(aggregate: "Snapped", key: "big", at: behind)
        try store.saveSnapshot(Snapshot(stream: snapped, version: behind, state: at.state,
                                        fingerprint: writer.domain.aggregate(named: "Snapped")!.fingerprint))
        var loads: [Double] = []
        for _ in 0..<20 {
            let engine = try Engine(store: store)
            try engine.load(script: script, display: "bench.lua")
            var result: StateResult?
            loads.append(try Self.seconds { result = try engine.state(aggregate: "Snapped", key: "big") })
            guard result?.state == #"{"count":\#(n)}"# else { throw EngineError.invalid("bench", "wrong snapshot state") }
        }
        loads.sort()
        report(Figure(name: "load with snapshots every 100", value: loads[loads.count / 2] * 1000, unit: "ms",
                      detail: "median of 20 fresh engines; snapshot at \(behind), \(Int64(n) - behind) events after it"))
    }

    /// Commands one after another (load + handle + commit each), round-robin over 100 counters.
    private func sequentialCommands(store: EventStore, script: String, label: String) throws {
        let engine = try Engine(store: store)
        try engine.load(script: script, display: "bench.lua")
        let keys = (0..<100).map { "seq-\($0)" }
        var latencies: [Double] = []
        latencies.reserveCapacity(settings.commands)
        let time = try Self.seconds {
            for i in 0..<settings.commands {
                let start = DispatchTime.now().uptimeNanoseconds
                _ = try engine.execute(aggregate: "Counter", key: keys[i % 100], command: "increment")
                latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
                if (i + 1) % 10_000 == 0 { progress(label, Double(i + 1) / Double(settings.commands)) }
            }
        }
        latencies.sort()
        report(Figure(name: label, value: Double(settings.commands) / time, unit: "commands/s",
                      detail: "p50 \(Self.format(Self.percentile(latencies, 0.5))) ms, "
                        + "p99 \(Self.format(Self.percentile(latencies, 0.99))) ms, \(settings.commands) commands"))
    }

    static func seconds(_ body: () throws -> Void) rethrows -> Double {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    }

    /// "p50 0.031 ms, p99 0.315 ms" from sorted latencies in ms.
    static func percentiles(_ sorted: [Double]) -> String {
        "p50 \(format(percentile(sorted, 0.5))) ms, p99 \(format(percentile(sorted, 0.99))) ms"
    }

    static func percentile(_ sorted: [Double], _ p: Double) -> Double {
        sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }

    static func format(_ x: Double) -> String { String(format: x < 10 ? "%.3f" : "%.1f", x) }

    /// Peak resident memory of this process, from /proc (0 where unavailable).
    static func peakMemoryKiB(pid: String = "self") -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }
}
