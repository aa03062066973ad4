import Foundation
import LuaES
import LuaESCore
import LuaESStore

extension Benchmark {
    static let footprintLabel = "bytes per event on disk"

    /// Sequential single-event commands on 3,000 accounts in a fresh SQLite file, then the
    /// file's size per event once the WAL is checkpointed into it.
    func storageFootprint(script: String, dir: URL) throws {
        guard settings.store == nil else {
            return report(Figure(name: Self.footprintLabel, value: 0, unit: "skipped", detail: "measured on SQLite only"))
        }
        let path = dir.appendingPathComponent("footprint.db").path
        let store = try SQLiteEventStore(path: path)
        let engine = try Engine(store: store)
        try engine.load(script: script, display: "bench.lua")
        let commands = settings.commands, accounts = 3000
        let keys = (0..<accounts).map { "account-\($0)" }
        var dataBytes = 0
        let time = try Self.seconds {
            for i in 0..<commands {
                let result = try engine.execute(aggregate: "Account", key: keys[i % accounts], command: "deposit")
                dataBytes += result.events.reduce(0) { $0 + $1.data.utf8.count }
                if (i + 1) % 10_000 == 0 { progress(Self.footprintLabel, Double(i + 1) / Double(commands)) }
            }
        }
        try store.close()  // the last connection checkpoints the WAL into the file and removes it
        let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue ?? 0
        report(Figure(name: Self.footprintLabel, value: Double(size) / Double(commands), unit: "bytes",
                      detail: "\(commands) events of \(dataBytes / max(commands, 1)) bytes of data on \(accounts) streams: "
                        + "\(size / 1_048_576) MiB; written at \(Int(Double(commands) / time)) commands/s"))
    }
}
