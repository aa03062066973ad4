import Foundation
import Logging
import LuaESCore
import LuaESScripting
import LuaESStore

/// Runs a `Projector` on a thread of its own: catch-up, then live, woken by `notify()`
/// after commits (in-process) and every `pollInterval` otherwise (commits of other
/// processes or nodes). The engine is made on that thread and only used there.
public final class ProjectionRunner: @unchecked Sendable {
    // @unchecked: `reloads` is only touched while `lock` is held; `projector` and `loaded` only on
    // the loop's thread (and by `stop` once that thread has ended).
    private let makeEngine: @Sendable () throws -> Engine
    private let pageSize: Int
    private let leaseSeconds: Double
    /// Who this runner is in projection leases: host, process and a random part.
    public let owner = "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"
    private let logger: Logger
    private let lock = NSLock()
    private var reloads = 0
    private var projector: Projector?
    private var loaded = false
    private var loop: WakeableLoop!

    /// - Parameters:
    ///   - makeEngine: loads the domain script into a new engine (called on the runner's thread, again on reload).
    ///   - pageSize: events per page.
    ///   - pollInterval: seconds between polls when nobody calls `notify`.
    ///   - leaseSeconds: how long a runner keeps a projection after its last renewal; another
    ///     runner (process, node) takes it over after that (at once after a clean `stop`).
    public init(pageSize: Int = 500, pollInterval: TimeInterval = 0.2, leaseSeconds: Double = 15,
                logger: Logger = Logger(label: "luaes.projections"), makeEngine: @escaping @Sendable () throws -> Engine) {
        self.makeEngine = makeEngine
        self.pageSize = pageSize
        self.leaseSeconds = leaseSeconds
        self.logger = logger
        loop = WakeableLoop(name: "esrun-projections", interval: pollInterval, failure: "projections failed",
                            logger: logger) { [weak self] in try self?.pass() }
    }

    // The loop holds this runner weakly; stopping it here ends its thread.
    deinit { loop.stop() }

    public func start() { loop.start() }

    /// Wakes the runner: events were committed.
    public func notify() { loop.wake() }

    /// Loads the script again before the next page (after a hot reload).
    public func reload() {
        lock.withLock { reloads += 1 }
        loop.wake()
    }

    /// Stops the thread after the page in progress and gives up its leases.
    public func stop() {
        loop.stop()
        // the loop's thread has ended: the projector is no longer in use there
        do { try projector?.releaseLeases() } catch {
            logger.warning("projection leases not released; others take over when they expire", metadata: ["error": "\(error)"])
        }
    }

    /// Takes a waiting reload request.
    private func takeReload() -> Bool {
        lock.withLock {
            defer { reloads = 0 }
            return reloads > 0
        }
    }

    private func reloadPending() -> Bool { lock.withLock { reloads > 0 } }

    /// Loads the script when needed, then works page by page until caught up; yields between
    /// pages to a stop or a reload.
    private func pass() throws {
        if takeReload() || !loaded {
            loaded = false  // first: should anything below fail, the next pass loads again
            if let old = projector {
                projector = nil
                do { try old.releaseLeases() } catch {
                    logger.warning("projection leases not released; they expire", metadata: ["error": "\(error)"])
                }
            }
            let engine = try makeEngine()
            if !engine.projections.isEmpty {
                let made = try Projector(engine: engine, pageSize: pageSize, logger: logger)
                made.lease = (owner, leaseSeconds)
                try made.prepare()
                projector = made
            }
            loaded = true
        }
        guard let projector else { return }
        while try projector.pass(), !loop.isStopping, !reloadPending() {}
    }
}
