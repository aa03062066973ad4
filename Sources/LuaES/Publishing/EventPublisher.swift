import Foundation
import Logging
import LuaESCore
import LuaESScripting
import LuaESStore

/// Hands committed events to a sink, at least once, in position order.
///
/// The publisher tails the global feed (`EventStore.events(after:limit:)`) from its
/// checkpoint, delivers each page to the sink, then saves the page's last position. Only
/// committed events are in the feed, so nothing is published before its commit; a crash
/// after delivery and before the checkpoint re-publishes that page on restart (consumers
/// de-duplicate by `event_id` or `position`), and nothing committed is ever skipped.
public final class EventPublisher: @unchecked Sendable {
    // @unchecked: `publishPending` is serialized by `passLock`; `loop` is set once in init.
    public let store: EventStore
    public let sink: EventSink
    public let checkpoint: PublishCheckpoint
    /// Events per feed read and per `sink.publish` call.
    public let pageSize: Int
    /// How long the thread sleeps between polls when nobody calls `notify`.
    public let pollInterval: TimeInterval
    private let logger: Logger
    private let passLock = NSLock()
    private var loop: WakeableLoop!

    /// - Parameters:
    ///   - store: the store whose feed is published.
    ///   - sink: where the events go.
    ///   - checkpoint: where the last delivered position is kept.
    ///   - pageSize: events per feed read and per `sink.publish` call.
    ///   - pollInterval: seconds between polls when nobody calls `notify`.
    public init(store: EventStore, sink: EventSink, checkpoint: PublishCheckpoint, pageSize: Int = 500,
                pollInterval: TimeInterval = 0.1, logger: Logger = Logger(label: "luaes.publish")) {
        self.store = store
        self.pageSize = max(pageSize, 1)
        self.pollInterval = pollInterval
        self.sink = sink
        self.checkpoint = checkpoint
        self.logger = logger
        loop = WakeableLoop(name: "esrun-publisher", interval: pollInterval, failure: "publishing failed",
                            logger: logger) { [weak self] in try self?.publishPending() }
    }

    /// Publishes everything committed after the checkpoint, page by page.
    /// - Returns: the number of events delivered.
    /// - Throws: a sink, store or checkpoint failure; what was delivered before it stays checkpointed.
    @discardableResult
    public func publishPending() throws -> Int {
        try passLock.withLock {
            var position = try checkpoint.load()
            var delivered = 0
            while true {
                let page = try store.events(after: position, limit: pageSize)
                guard let last = page.last else { return delivered }
                try sink.publish(page)
                try checkpoint.save(last.position)
                position = last.position
                delivered += page.count
                logger.debug("published", metadata: ["count": "\(page.count)", "position": "\(last.position)"])
                if page.count < pageSize { return delivered }
            }
        }
    }

    // The loop holds this publisher weakly; stopping it here ends its thread.
    deinit { loop.stop() }

    /// Starts a thread that publishes as events are committed (on `notify`, and every `pollInterval`).
    /// Failures are logged and retried with a growing delay (at most 5 s).
    public func start() { loop.start() }

    /// Wakes the thread: events were committed.
    public func notify() { loop.wake() }

    /// Stops the thread, then publishes what is still pending (unless `drain` is false).
    /// - Throws: the failure of the last pass, when draining fails.
    public func stop(drain: Bool = true) throws {
        loop.stop()
        if drain { try publishPending() }
    }
}
