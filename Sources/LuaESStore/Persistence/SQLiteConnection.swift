import CSQLite

/// One SQLite connection and its cache of prepared statements.
///
/// Not thread-safe by itself: it is opened in SQLite's multi-thread mode
/// (`SQLITE_OPEN_NOMUTEX`), where "a single database connection [must not be] used
/// simultaneously in two or more threads". `SQLiteEventStore` guarantees that: the
/// writer is used only under its lock, and a reader only by the thread that checked it out.
final class SQLiteConnection {
    /// How long a statement waits for another connection's lock before failing with `SQLITE_BUSY`.
    static let busyTimeoutMilliseconds: Int32 = 5000

    let path: String
    private(set) var handle: OpaquePointer?
    private var statements: [String: SQLiteStatement] = [:]
    /// The stream and name ids this connection has seen (`SQLiteInterned`).
    let interned = SQLiteInterned()

    /// Opens `path`; with `readOnly` false, creates the file when missing.
    init(path: String, readOnly: Bool) throws {
        self.path = path
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
            | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        var db: OpaquePointer?
        let code = sqlite3_open_v2(path, &db, flags, nil)
        guard code == SQLITE_OK, let db else {
            let error = SQLiteError(code: code, connection: db)
            // "Whether or not an error occurs when it is opened, resources associated with
            // the database connection handle should be released by passing it to sqlite3_close()."
            sqlite3_close(db)
            throw error
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Self.busyTimeoutMilliseconds)
    }

    deinit {
        // A connection dropped without close() (an error during open) still releases its handle.
        try? close()
    }

    var isOpen: Bool { handle != nil }

    /// Runs one or more statements that take no parameters and return no rows (DDL, PRAGMA, BEGIN...).
    func execute(_ sql: String) throws {
        guard let handle else { throw SQLiteError(code: SQLITE_MISUSE, message: "connection is closed", sql: sql) }
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = message.map { String(cString: $0) }
            sqlite3_free(message)
            throw SQLiteError(code: sqlite3_extended_errcode(handle), message: text, sql: sql)
        }
    }

    /// Runs a statement that returns one integer (`PRAGMA user_version`, `SELECT count(*) ...`).
    func integer(_ sql: String) throws -> Int64 {
        try withStatement(sql) { statement in
            try statement.step() ? statement.int64(at: 0) : 0
        }
    }

    /// The cached prepared statement for `sql`, prepared on first use. Use `withStatement`
    /// unless the statement's reset is managed by the caller.
    func statement(_ sql: String) throws -> SQLiteStatement {
        if let cached = statements[sql] { return cached }
        guard let handle else { throw SQLiteError(code: SQLITE_MISUSE, message: "connection is closed", sql: sql) }
        let statement = try SQLiteStatement(sql: sql, connection: handle)
        statements[sql] = statement
        return statement
    }

    /// Runs `body` with the cached statement for `sql`, resetting it afterwards on every
    /// path so that no read transaction stays open.
    @inline(__always)
    func withStatement<T>(_ sql: String, _ body: (SQLiteStatement) throws -> T) throws -> T {
        let statement = try statement(sql)
        defer { statement.reset() }
        return try body(statement)
    }

    /// The rowid of the last row this connection inserted.
    var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows the last INSERT, UPDATE or DELETE on this connection changed.
    var changes: Int { Int(sqlite3_changes(handle)) }

    /// False while a transaction is open on this connection.
    var isAutocommit: Bool { handle.map { sqlite3_get_autocommit($0) != 0 } ?? true }

    /// Finalizes every cached statement, then closes the connection. Later calls are no-ops.
    func close() throws {
        guard let handle else { return }
        for statement in statements.values { statement.finalize() }
        statements.removeAll()
        // "If sqlite3_close() is invoked while a transaction is open, the transaction is
        // automatically rolled back." All statements are finalized above, so it cannot be BUSY.
        let code = sqlite3_close(handle)
        guard code == SQLITE_OK else { throw SQLiteError(code: code, connection: handle) }
        self.handle = nil
    }
}
