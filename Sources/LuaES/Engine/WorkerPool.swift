import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// Engines on threads of their own (one Lua state each), for servers: commands for one
/// aggregate instance always go to the same worker, so they run in order, while
/// different instances run in parallel. Lua never runs on the caller's threads.
public final class WorkerPool: Sendable {
    private let workers: [Worker]
    /// The registry of the loaded script (the same in every worker).
    public let domain: DomainInfo

    /// Creates `count` workers, each with an engine from `makeEngine`.
    /// - Parameter afterBatch: called (on a worker's thread) after commands committed events.
    /// - Throws: whatever `makeEngine` throws (a script that does not load).
    public init(count: Int, makeEngine: () throws -> Engine,
                afterBatch: @escaping @Sendable (Int) -> Void = { _ in }) throws {
        var engines: [Engine] = []
        for _ in 0..<max(count, 1) { engines.append(try makeEngine()) }
        domain = engines[0].domain
        workers = engines.enumerated().map { i, engine in
            Worker(engine: engine, name: "esrun-worker-\(i)", afterBatch: afterBatch)
        }
    }

    public var count: Int { workers.count }

    private func worker(for aggregate: String, _ key: String) -> Worker {
        var hasher = Hasher()
        hasher.combine(aggregate)
        hasher.combine(key)
        return workers[Int(UInt(bitPattern: hasher.finalize()) % UInt(workers.count))]
    }

    /// Runs a command on the worker of its aggregate instance.
    public func execute(_ request: CommandRequest) async -> Result<CommandResult, any Error> {
        await withCheckedContinuation { continuation in
            let queued = worker(for: request.aggregate, request.key).submit(.command(request) { result in
                continuation.resume(returning: result)
            })
            if !queued { continuation.resume(returning: .failure(EngineError.shuttingDown)) }
        }
    }

    /// Runs `body` with the engine of `aggregate`/`key`'s worker, after the commands queued before it.
    public func read<T: Sendable>(aggregate: String, key: String,
                                  _ body: @escaping @Sendable (Engine) throws -> T) async throws -> T {
        let result: Result<T, any Error> = await withCheckedContinuation { continuation in
            let queued = worker(for: aggregate, key).submit(.read { engine in
                continuation.resume(returning: Result { try body(engine) })
            })
            if !queued { continuation.resume(returning: .failure(EngineError.shuttingDown)) }
        }
        return try result.get()
    }

    /// Swaps every worker to a new engine between batches (hot reload). The engines are
    /// built first, so a script that does not load changes nothing.
    /// - Returns: a pool view with the new registry.
    public func reload(makeEngine: () throws -> Engine) throws -> DomainInfo {
        var engines: [Engine] = []
        for _ in workers { engines.append(try makeEngine()) }
        for (worker, engine) in zip(workers, engines) { worker.replace(with: engine) }
        return engines[0].domain
    }

    /// Finishes queued work and stops the threads.
    public func shutdown() {
        for worker in workers { worker.stop() }
    }
}
