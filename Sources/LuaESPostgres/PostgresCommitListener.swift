import Foundation
import Logging
import LuaESStore
import NIOCore
import NIOPosix
import PostgresNIO

/// Listens on the schema's commit channel (the `NOTIFY` each node sends after its commits,
/// `PostgresCommitAnnouncer`)
/// over a connection of its own, outside the pool, and calls the handlers on each
/// notification. It reconnects after a failure (with a growing pause, at most 5 s) and
/// calls the handlers once after every (re)connection, since a commit may have been missed
/// meanwhile.
final class PostgresCommitListener: @unchecked Sendable {
    // @unchecked: `handlers`, `task`, `connection` and `stopped` are only touched while `lock` is held.
    let channel: String
    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let lock = NSLock()
    private var handlers: [@Sendable () -> Void] = []
    private var task: Task<Void, Never>?
    private var connection: PostgresConnection?
    private var stopped = false

    init(channel: String, configuration: PostgresConnection.Configuration, logger: Logger) {
        self.channel = channel
        self.configuration = configuration
        self.logger = logger
    }

    /// Adds a handler; the first one starts listening.
    func add(_ handler: @escaping @Sendable () -> Void) {
        lock.withLock {
            guard !stopped else { return }
            handlers.append(handler)
            guard task == nil else { return }
            // On the event loops, like the store's own tasks: the cooperative pool may be all
            // blocked by threads waiting on the store (see EventLoopTaskExecutor).
            task = detachedOnEventLoops { [self] in await listen() }
        }
    }

    /// Stops listening (closing the connection ends the wait for the next notification).
    func stop() {
        let (task, connection) = lock.withLock {
            stopped = true
            return (self.task, self.connection)
        }
        task?.cancel()
        if let connection { connection.close().whenComplete { _ in } }
    }

    private func fire() {
        for handler in lock.withLock({ handlers }) { handler() }
    }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func listen() async {
        var pause: Duration = .milliseconds(200)
        while !isStopped && !Task.isCancelled {
            var opened: PostgresConnection?
            do {
                let connection = try await PostgresConnection.connect(
                    on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: 0, logger: logger).get()
                opened = connection
                let keep = lock.withLock {
                    self.connection = connection
                    return !stopped
                }
                if keep {
                    try await connection.listen(on: channel) { notifications in
                        pause = .milliseconds(200)
                        fire()
                        for try await _ in notifications { fire() }
                    }
                }
            } catch {
                if !isStopped {
                    logger.debug("listening for commits failed, will reconnect", metadata: ["error": "\(error)", "pause": "\(pause)"])
                }
            }
            lock.withLock { self.connection = nil }
            if let opened { try? await opened.close() }
            if isStopped { return }
            try? await Task.sleep(for: pause)
            pause = min(pause * 2, .seconds(5))
        }
    }
}

extension PostgresEventStore: CommitNotifying {
    /// Commits of every node (LISTEN on the schema's channel, over a connection of its own).
    public func onCommits(_ handler: @escaping @Sendable () -> Void) {
        commitListener.add(handler)
    }
}
