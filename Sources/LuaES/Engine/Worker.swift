import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// One thread that owns one `Engine` (one Lua state) and runs the jobs routed to it,
/// draining its queue at each wake-up so that commands share a store transaction.
final class Worker: @unchecked Sendable {
    // @unchecked: `engine` is used only on this worker's thread; the other stored
    // properties are read and written only while `condition` is locked. A replacement
    // engine is handed over under the lock and taken up by the thread between batches.
    enum Job {
        case command(CommandRequest, @Sendable (Result<CommandResult, any Error>) -> Void)
        case read(@Sendable (Engine) -> Void)
    }

    static let maxBatch = 256

    private let condition = NSCondition()
    private var jobs: [Job] = []
    private var replacement: Engine?
    private var stopping = false
    private var engine: Engine
    private let finished = DispatchSemaphore(value: 0)
    private let afterBatch: @Sendable (Int) -> Void

    /// - Parameter afterBatch: called on the worker's thread with the number of commands
    ///   that committed events in a batch (the feed's waiters are woken by it).
    init(engine: Engine, name: String, afterBatch: @escaping @Sendable (Int) -> Void) {
        self.engine = engine
        self.afterBatch = afterBatch
        let thread = Thread { [self] in run() }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Queues a job; false once the worker is stopping.
    func submit(_ job: Job) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Makes `engine` this worker's engine from its next batch on (hot reload).
    func replace(with engine: Engine) {
        condition.lock()
        replacement = engine
        condition.signal()
        condition.unlock()
    }

    /// Finishes the queued jobs, then stops the thread; returns when it has.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    private func run() {
        defer { finished.signal() }
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping && replacement == nil { condition.wait() }
            let batch = jobs
            jobs.removeAll(keepingCapacity: true)
            let next = replacement
            replacement = nil
            let stop = stopping && batch.isEmpty
            condition.unlock()
            if let next { engine = next }
            if stop { return }
            process(batch)
        }
    }

    /// Runs jobs in order: consecutive commands go to the store together; a read waits
    /// for the commands queued before it.
    private func process(_ batch: [Job]) {
        var commands: [(CommandRequest, @Sendable (Result<CommandResult, any Error>) -> Void)] = []
        func flush() {
            guard !commands.isEmpty else { return }
            let results = engine.execute(batch: commands.map(\.0))
            var committed = 0
            for ((_, reply), result) in zip(commands, results) {
                if case .success(let r) = result, !r.events.isEmpty { committed += 1 }
                reply(result)
            }
            commands.removeAll(keepingCapacity: true)
            if committed > 0 { afterBatch(committed) }
        }
        for job in batch {
            switch job {
            case .command(let request, let reply):
                commands.append((request, reply))
                if commands.count >= Self.maxBatch { flush() }
            case .read(let body):
                flush()
                body(engine)
            }
        }
        flush()
    }
}
