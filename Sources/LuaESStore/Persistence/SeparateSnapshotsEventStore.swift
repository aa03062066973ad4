import Foundation
import Logging
import LuaESCore

/// An `EventStore` whose snapshots live in a `SnapshotStore` of their own (`esrun --snapshots`):
/// everything but snapshots goes to the event store.
///
/// Snapshots are a cache, so a failing snapshot store degrades instead of failing: a read
/// that fails returns nil (the engine replays the events) and a save that fails is dropped.
/// Both are counted (`statistics`) and logged, at most once per `logInterval` with the
/// number left unlogged. After a store failure (`kind` store or unavailable) the snapshot
/// store is left alone for `retryAfter`, so that a server that is down costs each command
/// one refused connection at most once in that time, not on every load; calls in that time
/// are counted as skipped.
public final class SeparateSnapshotsEventStore: EventStore, @unchecked Sendable {
    // @unchecked: `state` is read and written only while `lock` is held; the rest is immutable.
    public let eventStore: any EventStore
    public let snapshotStore: any SnapshotStore
    /// Where the snapshots are, for logs (no secrets).
    public let name: String
    public let statistics: SnapshotStoreStatistics
    /// False: snapshot failures reach the caller (`esrun verify`, which reports them).
    public let degrades: Bool
    private let logger: Logger
    private let retryAfter: Duration
    private let logInterval: Duration
    private let lock = NSLock()
    private var state = State()

    private struct State {
        var closed = false
        var backOffUntil: ContinuousClock.Instant?
        var lastLog: ContinuousClock.Instant?
        var unlogged = 0
        var failing = false
    }

    /// - Parameters:
    ///   - events: the store of the events (and of everything but snapshots).
    ///   - snapshots: the store of the snapshots; closed with this store.
    ///   - name: where the snapshots are, for logs.
    ///   - retryAfter: how long the snapshot store is left alone after it failed.
    ///   - logInterval: at most one failure is logged in this time.
    ///   - degrades: false to throw snapshot failures instead (no back-off either).
    public init(events: any EventStore, snapshots: any SnapshotStore, name: String = "snapshot store",
                statistics: SnapshotStoreStatistics = SnapshotStoreStatistics(),
                logger: Logger = Logger(label: "esrun.snapshots"),
                retryAfter: Duration = .seconds(1), logInterval: Duration = .seconds(10), degrades: Bool = true) {
        self.degrades = degrades
        self.eventStore = events
        self.snapshotStore = snapshots
        self.name = name
        self.statistics = statistics
        self.logger = logger
        self.retryAfter = retryAfter
        self.logInterval = logInterval
    }

    @discardableResult
    public func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        try eventStore.append(events, to: stream, expectedVersion: expectedVersion)
    }

    public func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        try eventStore.append(batches: batches)
    }

    public func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent] {
        try eventStore.events(of: stream, after: after, upTo: upTo, limit: limit)
    }

    public func readReplayPage(_ page: inout ReplayPage, of stream: StreamID, after: Int64, upTo: Int64?, limit: Int) throws {
        try eventStore.readReplayPage(&page, of: stream, after: after, upTo: upTo, limit: limit)
    }

    public func events(after position: Int64, limit: Int) throws -> [RecordedEvent] {
        try eventStore.events(after: position, limit: limit)
    }

    public func events(forCommand commandID: String) throws -> [RecordedEvent] { try eventStore.events(forCommand: commandID) }
    public func version(of stream: StreamID) throws -> Int64 { try eventStore.version(of: stream) }
    public func streams(of aggregate: String?) throws -> [StreamID] { try eventStore.streams(of: aggregate) }
    public var commitNotifier: CommitNotifying? { eventStore.commitNotifier }
    public var projections: ProjectionStore? { eventStore.projections }

    /// The snapshot store's snapshot of `stream`; nil when it has none, fails or is backing off.
    /// - Throws: `StoreError.closed` after `close()`; the snapshot store's error when it does not degrade.
    public func snapshot(of stream: StreamID) throws -> Snapshot? {
        guard try mayCall() else { return nil }
        do {
            let snapshot = try snapshotStore.snapshot(of: stream)
            succeeded()
            return snapshot
        } catch {
            guard degrades else { throw error }
            failed(error, while: "reading the snapshot of \(stream)", fallback: "replaying its events")
            return nil
        }
    }

    /// Saves to the snapshot store; a failure is logged and counted, and the snapshot dropped.
    /// - Throws: `StoreError.closed` after `close()`; the snapshot store's error when it does not degrade.
    public func saveSnapshot(_ snapshot: Snapshot) throws {
        guard try mayCall() else { return }
        do {
            try snapshotStore.saveSnapshot(snapshot)
            succeeded()
        } catch {
            guard degrades else { throw error }
            failed(error, while: "saving the snapshot of \(snapshot.stream) at version \(snapshot.version)",
                   fallback: "dropped it")
        }
    }

    /// Closes both stores; the first failure is thrown after both were tried.
    public func close() throws {
        lock.withLock { state.closed = true }
        var failure: (any Error)?
        do { try snapshotStore.close() } catch { failure = error }
        do { try eventStore.close() } catch { failure = failure ?? error }
        if let failure { throw failure }
    }

    /// False while backing off (counted as a skip).
    private func mayCall() throws -> Bool {
        let skip = try lock.withLock {
            guard !state.closed else { throw StoreError.closed }
            guard let until = state.backOffUntil else { return false }
            if ContinuousClock.now < until { return true }
            state.backOffUntil = nil
            return false
        }
        if skip { statistics.addSkipped() }
        return !skip
    }

    private func succeeded() {
        let recovered = lock.withLock {
            defer { state.failing = false }
            return state.failing
        }
        if recovered { logger.notice("snapshot store answers again", metadata: ["snapshots": "\(name)"]) }
    }

    private func failed(_ error: any Error, while what: String, fallback: String) {
        statistics.addFailure()
        let kind = (error as? ClassifiedError)?.kind
        let now = ContinuousClock.now
        let unlogged: Int? = lock.withLock {
            state.failing = true
            if kind == .store || kind == .unavailable { state.backOffUntil = now + retryAfter }
            if let last = state.lastLog, now - last < logInterval {
                state.unlogged += 1
                return nil
            }
            state.lastLog = now
            defer { state.unlogged = 0 }
            return state.unlogged
        }
        guard let unlogged else { return }
        var metadata: Logger.Metadata = ["snapshots": "\(name)", "error": "\(error)"]
        if unlogged > 0 { metadata["unlogged_failures"] = "\(unlogged)" }
        logger.warning("snapshot store failed \(what); \(fallback)", metadata: metadata)
    }
}
