import Foundation

/// An `EventStore` in one SQLite file: the embedded default (`esrun --db PATH`).
///
/// The file is in WAL mode. One writer connection, guarded by a lock, runs every append
/// and snapshot write in a `BEGIN IMMEDIATE` transaction; reads use a small pool of
/// read-only connections, so they never wait for the writer and the writer never waits
/// for them. Several processes may open the same file: a writer waits up to 5 seconds
/// (`busy_timeout`) for another process's transaction instead of failing at once.
///
/// Thread safety: every method may be called from any thread.
public final class SQLiteEventStore: EventStore, @unchecked Sendable {
    // @unchecked: `writer`, `checkpointer` and `isClosed` are read and written only while `writerLock` is
    // held, so the writer connection is used by one thread at a time; `readers` lends each
    // reader connection to one thread at a time (see SQLiteReaderPool). `path` and
    // `isReadOnly` are immutable. SQLite's multi-thread mode needs no more than that.

    /// How hard a commit tries to reach the disk before `append` returns.
    public enum Durability: Sendable {
        /// `PRAGMA synchronous = NORMAL`, the default. A committed append survives a crash
        /// of the process (it is in the WAL file when `append` returns), but a power loss
        /// or an operating-system crash may drop the last transactions before the next
        /// checkpoint. The file itself is never corrupted.
        case normal
        /// `PRAGMA synchronous = FULL`: every commit is synced to the disk before `append`
        /// returns, so it survives a power loss too. Slower: one fsync per transaction.
        case full
    }

    /// The database file.
    public let path: String
    /// True when the store was opened with `readOnly`: appends and snapshot writes throw.
    public let isReadOnly: Bool

    let writerLock = NSLock()
    var writer: SQLiteConnection?
    var isClosed = false
    let readers: SQLiteReaderPool
    private var checkpointer: SQLiteCheckpointer?

    /// Opens the store in the file at `path`, creating the file and its schema when missing.
    ///
    /// - Parameters:
    ///   - path: the database file (`./esrun.db` by default in the CLI).
    ///   - durability: `.normal` (survives process crashes; power loss may drop the last
    ///     transactions) or `.full` (survives power loss, slower).
    ///   - readOnly: open without writing; the file must already hold an esrun database.
    /// - Throws: `StoreError.invalid` when the file is not an esrun database or was written
    ///   by a newer esrun; `StoreError.io` when it cannot be opened.
    public init(path: String, durability: Durability = .normal, readOnly: Bool = false) throws {
        self.path = path
        self.isReadOnly = readOnly
        self.readers = SQLiteReaderPool(path: path)
        do {
            let connection = try SQLiteConnection(path: path, readOnly: readOnly)
            try Self.prepareSchema(on: connection, readOnly: readOnly)
            if readOnly {
                try connection.close()
            } else {
                try connection.execute(Self.writerPragmas(durability))
                writer = connection
                let checkpointer = SQLiteCheckpointer(path: path)
                if let handle = connection.handle { checkpointer.attach(to: handle) }
                self.checkpointer = checkpointer
            }
        } catch let error as SQLiteError {
            throw error.storeError(path: path)
        }
    }

    deinit {
        // close() is idempotent; here nothing can receive its error, and the handles are
        // released regardless (SQLiteConnection.deinit), so the result is dropped.
        try? close()
    }

    /// Closes the connections, finalizing their statements first. Later calls throw
    /// `StoreError.closed`; closing again does nothing.
    public func close() throws {
        let (connection, checkpointer): (SQLiteConnection?, SQLiteCheckpointer?) = writerLock.withLock {
            isClosed = true
            defer {
                writer = nil
                self.checkpointer = nil
            }
            return (writer, self.checkpointer)
        }
        if let handle = connection?.handle { checkpointer?.detach(from: handle) }
        checkpointer?.stop()
        do {
            try readers.close()
            try connection?.close()
        } catch let error as SQLiteError {
            throw error.storeError(path: path)
        }
    }

    // MARK: Connections

    /// Runs `body` on the writer, under the writer lock, mapping SQLite errors.
    func withWriter<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        try writerLock.withLock {
            guard let writer else {
                if isClosed { throw StoreError.closed }
                throw StoreError.invalid("\(path) was opened read-only: it cannot be written")
            }
            do {
                return try body(writer)
            } catch let error as SQLiteError {
                throw error.storeError(path: path)
            }
        }
    }

    /// Runs `body` on a reader connection of its own, mapping SQLite errors.
    func withReader<T>(_ body: (SQLiteConnection) throws -> T) throws -> T {
        do {
            return try readers.withReader(body)
        } catch let error as SQLiteError {
            throw error.storeError(path: path)
        }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction on `connection`: committed when it
    /// returns, rolled back when it throws.
    func inTransaction<T>(_ connection: SQLiteConnection, _ body: () throws -> T) throws -> T {
        // IMMEDIATE takes the write lock at BEGIN, so two processes wait for each other
        // (busy_timeout) instead of failing when a read transaction tries to upgrade.
        try connection.withStatement("BEGIN IMMEDIATE") { _ = try $0.step() }
        do {
            let result = try body()
            try connection.withStatement("COMMIT") { _ = try $0.step() }
            connection.interned.commitPending()
            return result
        } catch {
            connection.interned.forgetPending()
            try rollBack(connection, after: error)
            throw error
        }
    }

    /// Rolls back the open transaction, if SQLite has not already done so.
    private func rollBack(_ connection: SQLiteConnection, after error: any Error) throws {
        // "If certain kinds of errors occur on a statement within a multi-statement
        // transaction ... the transaction might be rolled back automatically."
        guard !connection.isAutocommit else { return }
        do {
            try connection.withStatement("ROLLBACK") { _ = try $0.step() }
        } catch let failure {
            throw StoreError.io("\(path): rolling back after \"\(error)\" failed: \(failure)")
        }
    }

    /// Milliseconds since the Unix epoch, as stored in `recorded_at`.
    static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
