import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Concurrent commands: what a server does when many callers write at once.
extension Benchmark {
    /// Many Swift tasks submit commands to a `WorkerPool`, spread over `settings.keys`
    /// counters. Each worker drains its queue at every wake-up, so the commands that
    /// arrived meanwhile share one store transaction (group commit).
    func concurrentCommands(store: EventStore, script: String) async throws {
        let label = "concurrent commands on 10,000 counters"
        let total = settings.concurrentCommands
        let keys = UInt(max(settings.keys, 1))
        let tasks = max(settings.tasks, 1)
        let batches = BatchTally()
        let pool = try WorkerPool(count: settings.workers, makeEngine: {
            let engine = try Engine(store: store)
            try engine.load(script: script, display: "bench.lua")
            return engine
        }, afterBatch: { _ in batches.add() })
        defer { pool.shutdown() }
        // Rounds only to show progress; a round ends when its slowest task does.
        let rounds = total >= 50_000 ? 10 : 1
        var latencies: [Double] = []
        latencies.reserveCapacity(total)
        let start = DispatchTime.now().uptimeNanoseconds
        for round in 0..<rounds {
            let range = (total * round / rounds)..<(total * (round + 1) / rounds)
            let measured = try await withThrowingTaskGroup(of: [Double].self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        var mine: [Double] = []
                        for i in stride(from: range.lowerBound + task, to: range.upperBound, by: tasks) {
                            // 2654435761 is coprime with 10^k: every block of `keys` commands hits every key once.
                            let key = "c-\(UInt(i) &* 2_654_435_761 % keys)"
                            let sent = DispatchTime.now().uptimeNanoseconds
                            _ = try await pool.execute(CommandRequest(aggregate: "Counter", key: key, command: "increment")).get()
                            mine.append(Double(DispatchTime.now().uptimeNanoseconds - sent) / 1e6)
                        }
                        return mine
                    }
                }
                var all: [Double] = []
                for try await mine in group { all += mine }
                return all
            }
            latencies += measured
            progress(label, Double(round + 1) / Double(rounds))
        }
        let time = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        latencies.sort()
        report(Figure(name: label, value: Double(total) / time, unit: "commands/s",
                      detail: "\(Self.percentiles(latencies)), \(total) commands over \(keys) counters, "
                        + "\(settings.workers) workers, \(tasks) tasks, "
                        + String(format: "%.1f", Double(total) / Double(max(batches.count, 1))) + " commands per transaction"))
    }
}

/// Counts the worker batches (store transactions) that committed events.
private final class BatchTally: @unchecked Sendable {
    // @unchecked: `value` is read and written only while `lock` is held.
    private let lock = NSLock()
    private var value = 0
    func add() { lock.withLock { value += 1 } }
    var count: Int { lock.withLock { value } }
}
