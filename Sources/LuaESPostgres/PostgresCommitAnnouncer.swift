import Foundation
import Logging
import PostgresNIO

/// Tells the other nodes that this one committed: a `NOTIFY` on the schema's commit channel,
/// sent after the append's CALL returned, so a listener that wakes reads committed events.
///
/// Why not in the append itself: PostgreSQL commits a transaction that notified under one
/// database-wide lock (the notification queue's), so a `pg_notify` in every append made
/// commits one at a time: measured, INSERT + pg_notify at 8 connections reached about a third
/// of plain INSERTs. Here at most one notification is in flight per process; commits meanwhile
/// are announced by the next one, so none goes unannounced and the lock is taken about once
/// per round trip instead of once per append.
final class PostgresCommitAnnouncer: @unchecked Sendable {
    // @unchecked: `inFlight` and `again` are only read and written while `lock` is held.
    private let lock = NSLock()
    private var inFlight = false
    private var again = false
    private let channel: String
    private let client: PostgresClient
    private let logger: Logger

    init(channel: String, client: PostgresClient, logger: Logger) {
        self.channel = channel
        self.client = client
        self.logger = logger
    }

    /// Records a commit of this process; starts a notification unless one is on its way.
    func committed() {
        let start = lock.withLock {
            if inFlight {
                again = true
                return false
            }
            inFlight = true
            return true
        }
        if start { _ = detachedOnEventLoops { [self] in await announce() } }
    }

    /// Notifies until no commit came in meanwhile. A failure only delays the others: they
    /// also wake on reconnecting and at their next poll.
    private func announce() async {
        repeat {
            do {
                let query: PostgresQuery = "SELECT pg_notify(\(channel), '')"
                _ = try await client.withConnection { connection in try await connection.query(query, logger: logger) }
            } catch {
                logger.notice("announcing a commit to other nodes failed", metadata: ["error": "\(error)"])
            }
        } while lock.withLock {
            if again {
                again = false
                return true
            }
            inFlight = false
            return false
        }
    }
}
