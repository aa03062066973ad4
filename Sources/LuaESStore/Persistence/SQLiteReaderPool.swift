import Foundation

/// The read-only connections of one database file, lent to one thread at a time.
///
/// In WAL mode each reader sees the last commit made before its statement started and
/// never blocks the writer, so reads run in parallel with each other and with appends.
/// Idle connections are kept for reuse up to `maxIdle`; a burst of concurrent reads
/// opens more, and those are closed when returned.
final class SQLiteReaderPool: @unchecked Sendable {
    // @unchecked: `idle` and `isClosed` are read and written only while `lock` is held,
    // and a connection taken out of `idle` is used by the borrowing thread alone until
    // it is given back, which is what SQLite's multi-thread mode requires.
    private let lock = NSLock()
    private var idle: [SQLiteConnection] = []
    private var isClosed = false
    private let path: String
    private let maxIdle: Int

    init(path: String, maxIdle: Int = 4) {
        self.path = path
        self.maxIdle = maxIdle
    }

    /// Runs `body` with a reader connection of its own.
    /// - Throws: `StoreError.closed` after `close()`, and what `body` or opening throws.
    func withReader<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        let connection = try checkOut()
        defer { checkIn(connection) }
        return try body(connection)
    }

    /// Closes the idle connections; borrowed ones are closed when given back.
    func close() throws {
        let connections = lock.withLock {
            isClosed = true
            defer { idle.removeAll() }
            return idle
        }
        for connection in connections { try connection.close() }
    }

    private func checkOut() throws -> SQLiteConnection {
        let reused: SQLiteConnection? = try lock.withLock {
            if isClosed { throw StoreError.closed }
            return idle.popLast()
        }
        if let reused { return reused }
        let connection = try SQLiteConnection(path: path, readOnly: true)
        try connection.execute(SQLiteEventStore.readerPragmas)
        return connection
    }

    private func checkIn(_ connection: SQLiteConnection) {
        let keep = lock.withLock {
            guard !isClosed, idle.count < maxIdle else { return false }
            idle.append(connection)
            return true
        }
        // Closing a reader cannot lose data: its statements are finalized first, and a
        // failure here would only leak a read-only handle, so the error is not reported.
        if !keep { try? connection.close() }
    }
}
