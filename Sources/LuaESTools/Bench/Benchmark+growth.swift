import Foundation
import LuaES
import LuaESCore
import LuaESStore

extension Benchmark {
    /// `esrun bench --growth 1000000,10000000`: one SQLite file filled stage by stage with
    /// single-event commands on 3,000 accounts (metadata as the engine writes it, appended in
    /// group commits of 1,000), and at each size: bytes per event, the append rate of the
    /// stage, sequential engine commands, cold replays of whole streams and feed reads.
    public func growth(stages: [Int]) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("esrun-growth-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("bench.lua").path
        try Self.domain.write(toFile: script, atomically: true, encoding: .utf8)
        let path = settings.path ?? dir.appendingPathComponent("growth.db").path
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        var filler = GrowthFiller()
        for stage in stages.sorted() {
            let filling = try SQLiteEventStore(path: path)
            let added = stage - filler.events
            let appendTime = try Self.seconds { try filler.fill(filling, to: stage) { progress("growth \(stage)", $0) } }
            try filling.close()  // checkpoints the WAL into the file, so that the size is the file's
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
            let label = "at \(Self.millions(stage)) M events: "
            report(Figure(name: label + "bytes per event", value: Double(size) / Double(stage), unit: "bytes",
                          detail: "\(size / 1_048_576) MiB"))
            report(Figure(name: label + "append", value: Double(added) / appendTime, unit: "events/s",
                          detail: "\(added) single-event commands in group commits of 1000"))
            let store = try SQLiteEventStore(path: path)
            try measure(store, label: label, script: script, stage: stage)
            try store.close()
        }
    }

    static func millions(_ n: Int) -> String {
        n % 1_000_000 == 0 ? String(n / 1_000_000) : String(format: "%.1f", Double(n) / 1e6)
    }

    private func measure(_ store: SQLiteEventStore, label: String, script: String, stage: Int) throws {
        let engine = try Engine(store: store)
        try engine.load(script: script, display: "bench.lua")
        let commands = min(settings.commands, 20_000)
        let sequential = try Self.seconds {
            for i in 0..<commands { _ = try engine.execute(aggregate: "Counter", key: "growth-\(i % 100)", command: "increment") }
        }
        report(Figure(name: label + "sequential commands", value: Double(commands) / sequential, unit: "commands/s",
                      detail: "\(commands) commands on 100 counters"))
        var replayed = 0
        let cold = try Engine(store: store)
        try cold.load(script: script, display: "bench.lua")
        let replay = try Self.seconds {
            for i in 0..<200 {
                replayed += Int(try cold.state(aggregate: "Account", key: "account-\(i * 149 % GrowthFiller.accounts)").version)
            }
        }
        report(Figure(name: label + "cold replay", value: Double(replayed) / replay, unit: "events/s",
                      detail: "200 whole streams of ~\(replayed / 200) events, each read for the first time"))
        var read = 0
        var position = Int64(stage / 3)
        let feed = try Self.seconds {
            while read < min(stage, 1_000_000) {
                let page = try store.events(after: position, limit: 1000)
                guard let last = page.last else { break }
                read += page.count
                position = last.position
            }
        }
        report(Figure(name: label + "feed reads", value: Double(read) / feed, unit: "events/s",
                      detail: "\(read) events with their metadata, pages of 1000, from a third in"))
    }
}

/// Appends single-event commands with the engine's metadata, round robin over the accounts.
struct GrowthFiller {
    static let accounts = 3000
    var events = 0
    private var versions = [Int64](repeating: 0, count: accounts)
    private var ids = SystemRandomNumberGenerator()
    private let template = "\"command\":\"deposit\",\"script_version\":\"" + String(repeating: "ab", count: 32) + "\""

    mutating func fill(_ store: EventStore, to target: Int, progress: (Double) -> Void) throws {
        let start = events
        while events < target {
            let count = min(1000, target - events)
            var batches: [AppendBatch] = []
            batches.reserveCapacity(count)
            for i in 0..<count {
                let account = (events + i) % Self.accounts
                let base = UUIDBits(high: ids.next() & ~0xF000 | 0x4000, low: ids.next() & 0x3FFF_FFFF_FFFF_FFFF | 0x8000_0000_0000_0000)
                let command = "\"" + base.text + "\""
                let members = template + ",\"command_id\":" + command + ",\"correlation_id\":" + command + ",\"causation_id\":" + command
                let event = NewEvent(type: "Deposited", data: #"{"amount":100,"memo":"ab"}"#,
                                     meta: SharedMeta.eventMeta(id: base.event(0), members: members))
                batches.append(AppendBatch(stream: StreamID(aggregate: "Account", key: "account-\(account)"),
                                           expectedVersion: versions[account], events: [event]))
                versions[account] += 1
            }
            for result in try store.append(batches: batches) { _ = try result.get() }
            events += count
            if events % 100_000 == 0 { progress(Double(events - start) / Double(max(target - start, 1))) }
        }
    }
}
