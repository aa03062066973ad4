import Foundation
import Logging
import LuaESStore
import PostgresNIO

/// An `EventStore` in a PostgreSQL database, shared by several `esrun serve` nodes
/// (`esrun --postgres URL`).
///
/// Tables live in one schema (`esrun` unless the URL says `?schema=`), created on first
/// use with a version table: a database written by a newer esrun is refused. Appends are
/// one transaction each; a taken version is a conflict, recognised by the unique index on
/// (aggregate, key, version) (SQLSTATE 23505). The global feed is safe for catch-up readers
/// under concurrent writers on any number of nodes: see `PostgresEventStore+append.swift`
/// for the transaction-id fence that makes it so. Projections keep their views and
/// checkpoints in the same schema (`ProjectionStore`, see `PostgresEventStore+projections.swift`).
///
/// Blocking: `EventStore` is synchronous, postgres-nio is asynchronous. Every method runs
/// its queries in a Swift task and blocks the calling thread until they finish. Call it
/// from your own threads (the engine's workers, `DispatchQueue.global()`), never from a
/// SwiftNIO event-loop thread (that would wait for itself: it is checked and traps) and
/// preferably not from Swift concurrency's cooperative threads, which it would hold.
///
/// Connections come from postgres-nio's `PostgresClient` pool (at most `pool` per process).
/// After the server restarts, broken connections are replaced: a read that fails on one is
/// tried again on another connection, and so is a write that had not been sent (see `+append`).
/// A call that gets no connection within `connect_timeout` fails with `StoreError.io`
/// naming the host and port and why it could not connect.
public final class PostgresEventStore: EventStore, Sendable {
    /// Where the store connects (the password is only used to connect).
    public let configuration: PostgresStoreConfiguration
    let client: PostgresClient
    let runner: Task<Void, Never>
    let isClosed = ClosedFlag()
    let hooks = PostgresStoreHooks()
    let logger: Logger
    /// Quoted table names in the configured schema.
    let events: String, snapshots: String, schemaVersionTable: String, templates: String
    /// The advisory-lock key that orders appends in this schema (see `+append`).
    let appendLockKey: Int64
    /// The quoted name of the procedure that appends (`+appendProcedure`).
    let appendProcedureName: String
    /// Hears the commits of every node on this schema (`onCommits`).
    let commitListener: PostgresCommitListener
    /// Tells the other nodes of this one's commits.
    let commitAnnouncer: PostgresCommitAnnouncer
    /// Which metadata templates go into `templates` (`PostgresEventColumns`).
    let templateSightings = TemplateSightings()

    /// Opens the store, creating the schema and its tables when missing.
    ///
    /// - Parameters:
    ///   - configuration: server, database, schema and pool settings.
    ///   - logger: where postgres-nio logs background events (connection failures).
    /// - Throws: `StoreError.io` when the server cannot be reached (naming host and port),
    ///   `StoreError.invalid` when the schema was written by a newer esrun or holds
    ///   tables of something else.
    public init(configuration: PostgresStoreConfiguration, logger: Logger = Logger(label: "luaes.postgres")) throws {
        self.configuration = configuration
        self.logger = logger
        let schema = "\"\(configuration.schema)\""
        events = schema + ".events"
        snapshots = schema + ".snapshots"
        schemaVersionTable = schema + ".schema_version"
        templates = schema + ".templates"
        appendLockKey = Self.lockKey("esrun.append." + configuration.schema)
        appendProcedureName = Self.procedureName(in: schema)
        let listenerConfiguration = try configuration.connectionConfiguration(application: "esrun-listen/" + configuration.schema)
        commitListener = PostgresCommitListener(channel: Self.commitChannel(appendLockKey),
                                                configuration: listenerConfiguration, logger: logger)
        let clientConfiguration = try configuration.clientConfiguration()
        let client = PostgresClient(configuration: clientConfiguration, backgroundLogger: logger)
        self.client = client
        commitAnnouncer = PostgresCommitAnnouncer(channel: commitListener.channel, client: client, logger: logger)
        // The pool's own task runs on the event loops too, for the reason in EventLoopTaskExecutor.
        runner = detachedOnEventLoops { await client.run() }
        do {
            try prepareSchema()
        } catch {
            try? close()  // the schema error is the one to report; closing only stops the pool
            throw error
        }
    }

    /// The NOTIFY channel of the schema's commits: short and an identifier whatever the schema's name.
    static func commitChannel(_ lockKey: Int64) -> String {
        "esrun_commits_" + String(UInt64(bitPattern: lockKey), radix: 16)
    }

    /// Opens the store at a `postgres://` URL (see `PostgresStoreConfiguration`).
    public convenience init(url: String, logger: Logger = Logger(label: "luaes.postgres")) throws {
        try self.init(configuration: PostgresStoreConfiguration(url: url), logger: logger)
    }

    deinit {
        // Stopping the pool's task is all close() does that matters here; nothing can
        // receive an error from deinit.
        runner.cancel()
    }

    /// Closes the pool's connections. Later calls throw `StoreError.closed`; closing again
    /// does nothing.
    public func close() throws {
        guard isClosed.close() else { return }
        commitListener.stop()
        runner.cancel()  // ends PostgresClient.run(), which closes the pool's connections
        let runner = self.runner
        let ended = DispatchSemaphore(value: 0)
        let wait: @Sendable () async -> Void = {
            await runner.value
            ended.signal()
        }
        detachedOnEventLoops(wait)
        // Closing needs no answer from the server: the calls after this one throw
        // `StoreError.closed` whether or not the pool has finished closing its sockets. The
        // pool's shutdown can need a thread of Swift's cooperative pool, so a caller that is
        // itself on one (inside a task) does not wait: with every such thread waiting, the
        // shutdown could not run. Other callers wait for the sockets to close, within limits.
        let inTask = withUnsafeCurrentTask { $0 != nil }
        if !inTask, ended.wait(timeout: .now() + Self.closeWait) == .timedOut {
            logger.notice("PostgreSQL pool still closing after \(Self.closeWait) s; not waiting longer (its connections close by themselves)")
        }
    }

    /// Seconds `close()` waits for the pool to finish closing its connections.
    static let closeWait = 2.0

    /// A stable 64-bit key for `pg_advisory_lock` from a name (FNV-1a).
    static func lockKey(_ name: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    /// Milliseconds since the Unix epoch by this process's clock, as stored in `recorded_at`.
    static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
