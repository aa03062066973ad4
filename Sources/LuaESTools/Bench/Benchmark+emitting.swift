import LuaES
import LuaESCore
import LuaESStore

/// Commands that emit many events: per event, what the engine adds to the store's own cost.
extension Benchmark {
    static let emittingLabel = "commands emitting 1000 events"
    static let emittingMemoryLabel = "commands emitting 1000 events, in memory"
    static let emittingCommands = 200

    /// 200 commands on one stream, each emitting 1000 events (validated, encoded, replayed, appended).
    func emittingCommands(store: EventStore, script: String, label: String) throws {
        let engine = try Engine(store: store)
        try engine.load(script: script, display: "bench.lua")
        let commands = max(Self.emittingCommands * min(settings.events, 1_000_000) / 1_000_000, 10)
        var version: Int64 = 0
        let time = try Self.seconds {
            for i in 0..<commands {
                version = try engine.execute(aggregate: "Burst", key: "b", command: "burst", args: #"{"n":1000}"#).version
                if (i + 1) % 20 == 0 { progress(label, Double(i + 1) / Double(commands)) }
            }
        }
        guard version == Int64(commands) * 1000 else {
            throw EngineError.invalid("bench", "\(label): the stream reached version \(version)")
        }
        report(Figure(name: label, value: Double(version) / time, unit: "events/s",
                      detail: "\(commands) commands of 1000 events on one stream in \(Self.format(time)) s"))
    }
}
