import Foundation
import Logging
import LuaESCore
import LuaESStore

/// An `EventStore` in one MongoDB database (`esrun --mongodb URL`), shared by any number of
/// esrun processes. It needs no multi-document transactions, so a standalone server works.
/// Documents: `MongoLayout`.
///
/// **An append** is one document, its *commit*: the batch's events, first and last version,
/// feed sequence number. Steps: read the stream's version (the commit with the highest first
/// version) and fail with `conflict` unless it is the expected one; take a sequence number
/// (findAndModify `$inc` on the feed counter); insert the commit. The unique index on
/// (aggregate, key, first version) makes two writers at one expected version collide
/// (error 11000, told by its code); a collision is then classified by reading, never by the
/// message: a commit at our first version is a conflict, our command id taken is a duplicate,
/// else our sequence number was taken by a gap fill (below) and we retry with a new one.
/// Why two commits never overlap, by induction on the number of commits: suppose the
/// commits of a stream tile versions 1...n. A writer inserts first version e + 1 only after
/// it read version e, so 1...e was tiled then, and commits are never deleted. If n > e, the
/// commit starting at e + 1 exists and the insert collides; so it succeeds only when n = e,
/// and the commits then tile 1...n + k. Inserting one document is atomic: an append is all or
/// nothing, and one over MongoDB's 16 MiB document limit is refused (`invalid`) before anything.
///
/// **The feed.** Positions are sequence × 2^20 + index in the commit; the counter only
/// grows, so a stream's later commit (whose writer read the earlier one) has a higher
/// number. A *gap* is a sequence number taken whose commit is not there: its writer is
/// between its `$inc` and its insert, or died. A reader returns the commits in sequence order
/// up to the first gap only; when the gap is the first thing it would return, it waits
/// briefly (`gapWait`) and then *fills* it: it inserts a gap fill at that number. Either the
/// fill goes in, and the unique index on p makes the late writer's insert fail forever (that
/// writer then retries with a new number, which is above everything the reader read, since it
/// was handed out after the fill); or the insert fails because the commit (or another fill)
/// got there first, and the reader reads it. Either way every number the reader passes holds
/// a commit or a fill for good, so a later read can never show an event before its position:
/// nothing is skipped, under any number of writers and readers. A writer that fails after
/// taking its number fills the number itself, so readers rarely wait.
///
/// **Command ids** (idempotency keys): a commit's `_id` is its batch's first command id, so
/// a second commit of it is a duplicate key on `_id`. A batch with several ids (group commit
/// of keyed commands on one stream) first inserts a *claim* (`_id` = the id, and its sequence
/// number) for each further one; a claim counts only once its sequence number holds its
/// commit. Someone who meets a claim reads that number: a commit (the id is committed), a gap
/// fill (a dead claim: delete it and take the id), or nothing yet (wait, fill, look again).
/// A claim is deleted only when its number holds a fill, so its commit can never exist; a
/// claim of a commit that exists is therefore never deleted, and an id is in one commit at most.
///
/// No projection views (`projections` is nil) and no commit notifications: readers poll.
public final class MongoEventStore: EventStore, @unchecked Sendable {
    // @unchecked: every stored property is immutable; `connection` is thread safe (its own lock
    // and libmongoc's pool), `snapshots` shares it.
    let connection: MongoConnection
    let snapshots: MongoSnapshotStore
    let logger: Logger
    /// How long a reader waits for a writer's commit at a taken sequence number before it fills it.
    let gapWait: TimeInterval

    /// Connects and creates the collections' indexes when missing.
    /// - Throws: `StoreError.unavailable` when no server answers in time, `.io` for refused
    ///   credentials or other server errors.
    public init(configuration: MongoStoreConfiguration, gapWait: TimeInterval = 0.1,
                logger: Logger = Logger(label: "esrun.mongodb")) throws {
        connection = try MongoConnection(configuration: configuration)
        snapshots = MongoSnapshotStore(connection: connection, ownsConnection: false)
        self.logger = logger
        self.gapWait = gapWait
        do {
            try createIndexes()
        } catch {
            connection.close()
            throw error
        }
    }

    public convenience init(url: String, logger: Logger = Logger(label: "esrun.mongodb")) throws {
        try self.init(configuration: MongoStoreConfiguration(url: url), logger: logger)
    }

    private func createIndexes() throws(StoreError) {
        func index(_ name: String, _ keys: [String]) -> BSONDocument {
            BSONDocument {
                var key = BSONDocument()
                for field in keys { key.append(field, int32: 1) }
                $0.append("key", key)
                $0.append("name", name)
                $0.append("unique", true)
            }
        }
        do {
            _ = try connection.run(BSONDocument {
                $0.append("createIndexes", MongoLayout.commits)
                $0.append("indexes", array: [index("stream_version", ["a", "k", "f"]), index("feed_position", ["p"])])
            }, .write)
        } catch {
            throw fail(error, while: "creating the indexes of \(MongoLayout.commits)")
        }
    }

    public var configuration: MongoStoreConfiguration { connection.configuration }

    public var commitNotifier: CommitNotifying? { nil }

    /// None: projections on a MongoDB store are not supported yet; `esrun projection` and
    /// `serve` with projections refuse.
    public var projections: ProjectionStore? { nil }

    public func snapshot(of stream: StreamID) throws -> Snapshot? { try snapshots.snapshot(of: stream) }

    public func saveSnapshot(_ snapshot: Snapshot) throws { try snapshots.saveSnapshot(snapshot) }

    public func close() throws {
        connection.close()
    }

    func checkOpen() throws(StoreError) {
        if connection.isClosed { throw StoreError.closed }
    }

    /// The store's error for a failed command; `closed` when the store was closed meanwhile.
    func fail(_ error: any Error, while what: String) -> StoreError {
        if connection.isClosed { return .closed }
        if let error = error as? StoreError { return error }
        if let failure = error as? MongoFailure { return failure.storeError(while: what, server: connection.server) }
        return .io("MongoDB at \(connection.server), \(what): \(error)")
    }
}
