import Foundation
import Hummingbird
import Logging
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore

/// `esrun serve`: the domain's commands and reads over HTTP (ARCHITECTURE.md, "HTTP"), on a pool of
/// engine threads, with hot reload of the script.
public final class ESRunServer: Sendable {
    let configuration: ServerConfiguration
    let store: EventStore
    let pool: WorkerPool
    let tokens: TokenList?
    let metrics: ServerMetrics
    let feed = FeedNotifier()
    let logger: Logger
    let scriptState: ScriptState
    /// Publishes committed events when `--publish` is given; woken after each batch.
    let publisher: EventPublisher?
    /// Keeps the script's projections up to date; woken after each batch, reloaded with the script.
    let projections: ProjectionRunner?

    /// Opens the store and loads the script in every worker.
    /// - Throws: `EngineError` when the script does not load, `StoreError`, `TokenFileError`.
    public init(configuration: ServerConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        self.tokens = try configuration.tokenFile.map { try TokenList(contentsOf: $0) }
        let statistics = EngineStatistics()
        var engineOptions = configuration.engine
        engineOptions.statistics = statistics
        let snapshotStatistics = SnapshotStoreStatistics()
        self.metrics = ServerMetrics(statistics: statistics, snapshotStore: snapshotStatistics)
        let events = try configuration.store.open()
        let opened: EventStore
        do {
            opened = try configuration.snapshots.route(events, statistics: snapshotStatistics,
                                                       logger: Logger(label: "esrun.snapshots"))
        } catch {
            try? events.close()  // the snapshot store's error is the one to report
            throw error
        }
        let store: EventStore = configuration.storeMiddleware.isEmpty ? opened
            : MiddlewareEventStore(base: opened, middleware: configuration.storeMiddleware)
        self.store = store
        let script = configuration.script
        let (feed, metrics) = (self.feed, self.metrics)
        do {
            let publisher = try configuration.publish?.makePublisher(
                store: store, checkpointPath: configuration.publishCheckpoint, database: configuration.store.databasePath,
                logger: logger)
            self.publisher = publisher
            let projectionOptions = engineOptions
            let projections = configuration.runProjections && store.projections != nil
                ? ProjectionRunner(pageSize: configuration.projectionPageSize, logger: logger) {
                    try Self.makeEngine(script: script, store: store, options: projectionOptions, logger: logger)
                } : nil
            self.projections = projections
            // Commits of other nodes (PostgreSQL) wake the long polls, the publisher and projections too.
            store.commitNotifier?.onCommits {
                feed.notify()
                publisher?.notify()
                projections?.notify()
            }
            pool = try WorkerPool(count: configuration.workers, makeEngine: {
                try Self.makeEngine(script: script, store: store, options: engineOptions, logger: logger)
            }, afterBatch: { commands in
                metrics.groupCommit(commands: commands)
                feed.notify()
                publisher?.notify()
                projections?.notify()
            })
        } catch {
            try? store.close()
            throw error
        }
        scriptState = ScriptState(domain: pool.domain, options: engineOptions)
    }

    static func makeEngine(script: String, store: EventStore, options: EngineOptions, logger: Logger) throws -> Engine {
        let engine = try Engine(store: store, options: options, logger: logger)
        try engine.load(script: script, display: (script as NSString).lastPathComponent)
        try checkRegistry(engine.domain)
        return engine
    }

    /// A script that loads but wires nothing is refused too: it would serve nothing.
    static func checkRegistry(_ domain: DomainInfo) throws {
        guard !domain.aggregates.isEmpty else {
            throw EngineError(kind: .invalid, code: "no_aggregates", message: "the script defines no aggregate")
        }
        if let problem = domain.consistencyProblems.first {
            throw EngineError(kind: .invalid, code: "inconsistent_registry", message: problem)
        }
    }

    /// Serves until SIGINT or SIGTERM, then finishes in-flight commands and closes the store.
    /// - Parameter onListening: called with the bound port once the server accepts connections.
    public func run(onListening: @escaping @Sendable (Int) -> Void = { _ in }) async throws {
        let app = Application(
            router: makeRouter(),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "esrun"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        let watcher = configuration.watch ? Task { await watchScript() } : nil
        publisher?.start()
        projections?.start()
        defer {
            watcher?.cancel()
            pool.shutdown()
            projections?.stop()
            do { try publisher?.stop() } catch { logger.error("publishing the last events failed: \(error)") }
            do { try store.close() } catch { logger.error("closing the store failed: \(error)") }
        }
        try await app.runService()
    }

    /// Loads the script in fresh Lua states, checks it, then swaps every worker to it.
    /// A script that fails leaves the old rules serving; the error is kept for `/health`.
    @discardableResult
    func reload() -> Result<DomainInfo, EngineError> {
        let options = scriptState.options
        do {
            let domain = try pool.reload(makeEngine: {
                try Self.makeEngine(script: configuration.script, store: store, options: options, logger: logger)
            })
            scriptState.reloaded(domain)
            projections?.reload()
            metrics.reload(succeeded: true)
            logger.info("script reloaded", metadata: ["fingerprints": "\(domain.aggregates.map { "\($0.name)=\($0.fingerprint)" })"])
            return .success(domain)
        } catch {
            let failure = error as? EngineError ?? EngineError(kind: .script, code: "reload", message: "\(error)")
            scriptState.failed(failure)
            metrics.reload(succeeded: false)
            logger.error("reload refused, the old rules keep serving: \(failure)")
            return .failure(failure)
        }
    }

    /// Polls the modification times of the .lua files beside the script.
    private func watchScript() async {
        let dir = ((configuration.script as NSString).deletingLastPathComponent as NSString).standardizingPath
        func stamp() -> [String: Date] {
            let folder = dir.isEmpty ? "." : dir
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            var out: [String: Date] = [:]
            for name in names where name.hasSuffix(".lua") {
                let attributes = try? FileManager.default.attributesOfItem(atPath: folder + "/" + name)
                out[name] = attributes?[.modificationDate] as? Date
            }
            return out
        }
        var last = stamp()
        while !Task.isCancelled {
            try? await Task.sleep(nanoseconds: 200_000_000)
            let now = stamp()
            if now != last {
                try? await Task.sleep(nanoseconds: 100_000_000) // let an editor finish writing
                last = stamp()
                reload()
            }
        }
    }
}

/// What `/health` shows about the script: its registry, reloads, the last reload error.
final class ScriptState: @unchecked Sendable {
    // @unchecked: every stored property is read and written only while `lock` is held.
    private let lock = NSLock()
    private var domainValue: DomainInfo
    private var lastError: EngineError?
    private var reloadCount = 0
    /// When the running script was loaded, ISO 8601: formatted once, not per `/health` request.
    private var loadedAt = ISO8601DateFormatter().string(from: Date())
    let options: EngineOptions

    init(domain: DomainInfo, options: EngineOptions) {
        self.domainValue = domain
        self.options = options
    }

    var domain: DomainInfo { lock.withLock { domainValue } }

    func reloaded(_ domain: DomainInfo) {
        lock.withLock {
            domainValue = domain
            lastError = nil
            reloadCount += 1
            loadedAt = ISO8601DateFormatter().string(from: Date())
        }
    }

    func failed(_ error: EngineError) { lock.withLock { lastError = error } }

    var snapshot: (domain: DomainInfo, error: EngineError?, reloads: Int, loadedAt: String) {
        lock.withLock { (domainValue, lastError, reloadCount, loadedAt) }
    }
}
