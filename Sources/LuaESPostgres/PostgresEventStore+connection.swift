import Foundation
import LuaESStore
import NIOPosix
import PostgresNIO

extension PostgresEventStore {
    /// When a failed call may be run again on a fresh connection (once).
    enum RetryPolicy {
        /// A read: running it twice changes nothing.
        case always
        /// A write: only when its transaction had not begun (its BEGIN, or its one
        /// autocommit statement, was not sent), so that nothing can have been committed.
        case beforeBegin
    }

    /// Runs `operation` in a detached task whose jobs run on the event loops
    /// (`EventLoopTaskExecutor`), and blocks the calling thread until it finishes: the
    /// bridge from the synchronous `EventStore` to postgres-nio.
    ///
    /// Must not run on a SwiftNIO event-loop thread: the operation needs those threads, so
    /// waiting there could never end. That is checked (a precondition). Any other thread
    /// works, a thread of Swift concurrency's cooperative pool included (it is held while
    /// it waits, but the operation does not need it).
    static func blocking<T: Sendable>(timeout: TimeInterval = blockingTimeout,
                                      _ operation: @escaping @Sendable () async throws -> T) throws -> T {
        precondition(MultiThreadedEventLoopGroup.currentEventLoop == nil,
                     "PostgresEventStore is synchronous: call it from a worker thread, not an event loop")
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        let body: @Sendable () async -> Void = {
            do { outcome.result = .success(try await operation()) } catch { outcome.result = .failure(error) }
            done.signal()
        }
        detachedOnEventLoops(body)
        // A connection the server lost mid-request can leave its answer pending for good
        // (seen after a crash and restart): a caller waits this long, then hears that the
        // outcome is unknown, instead of hanging. Every normal call ends far sooner.
        guard done.wait(timeout: .now() + timeout) == .success, let result = outcome.result else {
            throw StoreError.io("PostgreSQL did not answer within \(Int(timeout)) s; "
                + "the operation may or may not have been committed")
        }
        return try result.get()
    }

    /// How long a caller waits for PostgreSQL's answer before giving up (see `blocking`).
    static let blockingTimeout: TimeInterval = 120

    /// Leases a pooled connection and runs `body` on it, mapping every failure to a
    /// `StoreError`. A failure from a lost connection (the server restarted) is retried on
    /// another connection when `retry` allows it.
    /// - Parameter what: what the call does, for error messages ("appending to Counter/c1").
    func withConnection<T: Sendable>(_ what: String, retry: RetryPolicy,
                                     _ body: @escaping @Sendable (PostgresConnection, TransactionProgress) async throws -> T) throws -> T {
        guard !isClosed.isSet else { throw StoreError.closed }
        return try Self.blocking {
            var attempt = 1
            while true {
                let progress = TransactionProgress()
                do {
                    return try await self.leased { connection in try await body(connection, progress) }
                } catch let error as StoreError {
                    throw error
                } catch {
                    let safe = retry == .always || !progress.hasBegun
                    // After a restart every pooled connection may be dead: each failed try
                    // retires one, so at most `poolSize` tries meet a dead one.
                    if attempt <= self.configuration.poolSize, safe, Self.isConnectionLost(error), !self.isClosed.isSet {
                        self.logger.notice("PostgreSQL connection lost while \(what); trying again on a new one",
                                           metadata: ["error": "\(String(reflecting: error))"])
                        attempt += 1
                        continue
                    }
                    throw await self.storeError(error, while: what, unknownOutcome: !safe)
                }
            }
        }
    }

    /// Runs `body` in a transaction on `connection`: BEGIN, then COMMIT when it returns,
    /// ROLLBACK when it throws. `progress` records that BEGIN went through.
    static func inTransaction<T: Sendable>(_ connection: PostgresConnection, _ progress: TransactionProgress,
                                           logger: Logger, _ body: () async throws -> T) async throws -> T {
        try await connection.query("BEGIN", logger: logger)
        progress.hasBegun = true
        do {
            let value = try await body()
            try await connection.query("COMMIT", logger: logger)
            return value
        } catch {
            // A failed ROLLBACK means the connection is gone, which ends the transaction anyway.
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// Leases a connection, waiting at most `connectTimeout` for one, and runs `body`.
    /// Exactly one of "the body starts" and "the wait times out" happens (`LeaseGate`),
    /// so a body that started is never cancelled by the timer.
    private func leased<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let gate = LeaseGate()
        let timeout = configuration.connectTimeout
        let client = self.client
        return try await withThrowingTaskGroup(of: LeaseOutcome<T>.self) { group in
            group.addTask {
                .value(try await client.withConnection { connection in
                    guard gate.start() else { throw LeaseTimedOut() }
                    return try await body(connection)
                })
            }
            group.addTask {
                try? await Task.sleep(for: timeout)  // cancelled when the body finishes first
                if gate.timeOut() { throw LeaseTimedOut() }
                return .timerDone
            }
            while let outcome = try await group.next() {
                if case .value(let value) = outcome {
                    group.cancelAll()
                    return value
                }
            }
            throw LeaseTimedOut()  // not reached: the body's task either returns or throws
        }
    }

    /// True for failures that mean the connection is gone: the server restarted, closed
    /// it, or the network dropped it.
    static func isConnectionLost(_ error: any Error) -> Bool {
        if error is ConnectionClosedBeforeSending { return true }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .serverClosedConnection, .connectionError, .uncleanShutdown, .clientClosedConnection: return true
        case .server:
            // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, class 08 connection exceptions.
            let state = error.serverInfo?[.sqlState] ?? ""
            return state.hasPrefix("57P0") || state.hasPrefix("08")
        default: return false
        }
    }

    /// The SQLSTATE of a server error, if `error` is one.
    static func sqlState(_ error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        return error.serverInfo?[.sqlState]
    }

    /// A `StoreError` that says where and what failed, without the password or bound values:
    /// `unavailable` when nothing can have been written (no connection), else `io`.
    func storeError(_ error: any Error, while what: String, unknownOutcome: Bool = false) async -> StoreError {
        let place = "PostgreSQL at \(configuration.address)"
        if error is LeaseTimedOut { return await unreachable(while: what) }
        if Self.isConnectionLost(error) {
            let lost = "\(place): the connection was lost while \(what)"
            guard unknownOutcome else { return .unavailable("\(lost), and no other connection worked: \(Self.describe(error))") }
            return .io("\(lost) (it may or may not have been committed: read the stream to find out, or run the command "
                + "again with the same idempotency key, which commits at most once): \(Self.describe(error))")
        }
        return .io("\(place): \(what) failed: \(Self.describe(error))")
    }

    /// Why no connection came: connects once directly to get the server's or the network's reason.
    private func unreachable(while what: String) async -> StoreError {
        let timeout = configuration.connectTimeout
        do {
            let connection = try await PostgresConnection.connect(configuration: try directConfiguration(), id: 0, logger: logger)
            try? await connection.close()  // only a probe
            return .unavailable("PostgreSQL at \(configuration.address): no pooled connection within \(timeout) while \(what) "
                + "(all \(configuration.poolSize) connections busy?)")
        } catch {
            return Self.connectFailure(error, to: configuration, while: " while \(what)")
        }
    }

    /// A failed connect: `unavailable` when trying again may work (refused, timed out, the
    /// server starting or out of connections), `io` when it cannot (a wrong password, a
    /// certificate that does not verify, no TLS where it is required).
    static func connectFailure(_ error: any Error, to configuration: PostgresStoreConfiguration, while what: String) -> StoreError {
        let message = "cannot connect to PostgreSQL at \(configuration.address) (database \(configuration.database), "
            + "user \(configuration.username))\(what): \(describe(error))"
        guard let error = error as? PSQLError else { return .unavailable(message) }
        let transient = switch error.code {
        case .connectionError: !isTLSFailure(error.underlying)
        case .serverClosedConnection, .uncleanShutdown: true
        // 57P03 cannot_connect_now (starting up, shutting down), 53300 too_many_connections
        case .server: ["57P03", "53300"].contains(error.serverInfo?[.sqlState] ?? "")
        default: false
        }
        return transient ? .unavailable(message) : .io(message)
    }

    /// A failed TLS handshake or certificate check (NIOSSL reports a name mismatch as an "extra" error).
    static func isTLSFailure(_ error: (any Error)?) -> Bool {
        error is NIOSSLError || error is NIOSSLExtraError
    }

    /// The configuration of a connection made outside the pool (the schema check, probes).
    func directConfiguration() throws -> PostgresConnection.Configuration {
        try configuration.connectionConfiguration(application: "esrun-direct/" + configuration.schema)
    }

    /// A one-line account of a postgres-nio error: the server's SQLSTATE and message, or
    /// the connection failure (PSQLError's own description hides both on purpose).
    static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return "\(error)" }
        if let info = error.serverInfo, let message = info[.message] {
            let detail = info[.detail].map { " (\($0))" } ?? ""
            return "\(info[.sqlState] ?? "?????") \(message)\(detail)"
        }
        switch error.code {
        case .sslUnsupported:
            return "the server does not support TLS, which the URL's sslmode requires (sslmode=prefer or disable connects without it)"
        case .authMechanismRequiresPassword:
            return "the server asks for a password and none was given (put it in the URL or in PGPASSWORD)"
        case .connectionError where isTLSFailure(error.underlying):
            return "the TLS handshake failed (is the server's certificate signed by a CA in sslrootcert, "
                + "or by one the system trusts, and does it name the host?): \(error.underlying!)"
        default:
            if let underlying = error.underlying { return "\(error.code): \(underlying)" }
            return "\(error.code)"
        }
    }
}
