import CSQLite

/// A failure reported by SQLite: the (extended) result code, SQLite's message and the
/// SQL that was running. Bound values are never included: they may hold user data.
public struct SQLiteError: Error, Sendable, CustomStringConvertible {
    /// The extended result code (`SQLITE_CONSTRAINT_UNIQUE`, `SQLITE_IOERR_WRITE`, ...).
    public let code: Int32
    /// SQLite's explanation (`sqlite3_errmsg`), or the generic text of the code.
    public let message: String
    /// The statement that failed, when there was one.
    public let sql: String?

    init(code: Int32, message: String? = nil, sql: String? = nil) {
        self.code = code
        self.message = message ?? String(cString: sqlite3_errstr(code))
        self.sql = sql
    }

    /// Reads the error of `connection` after a call on it returned `code`.
    init(code: Int32, connection: OpaquePointer?, sql: String? = nil) {
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        self.init(code: code, message: message, sql: sql)
    }

    /// The primary result code (`SQLITE_CONSTRAINT`, `SQLITE_IOERR`, ...).
    public var primaryCode: Int32 { code & 0xFF }

    /// True for `SQLITE_CONSTRAINT_UNIQUE` and `SQLITE_CONSTRAINT_PRIMARYKEY`, whose C macros
    /// (`SQLITE_CONSTRAINT | (8<<8)`, `| (6<<8)`) Swift does not import.
    var isUniqueViolation: Bool {
        code == SQLITE_CONSTRAINT | (8 << 8) || code == SQLITE_CONSTRAINT | (6 << 8)
    }

    public var description: String {
        var text = "SQLite error \(code) (\(String(cString: sqlite3_errstr(code)))): \(message)"
        if let sql { text += " [while running: \(sql)]" }
        return text
    }

    /// This error as the store reports it, with advice a user can act on.
    /// - Parameter path: the database file, named in the message.
    func storeError(path: String) -> StoreError {
        switch primaryCode {
        case SQLITE_NOTADB:
            return .invalid("\(path) is not an esrun database (not an SQLite file)")
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .io("\(path) is locked by another connection or process and stayed locked "
                + "past the busy timeout; retry, or stop the other writer (\(self))")
        case SQLITE_FULL:
            return .io("\(path): the disk or file system is full; free space and retry (\(self))")
        case SQLITE_READONLY:
            return .io("\(path) cannot be written: check the file's and its folder's permissions (\(self))")
        case SQLITE_CANTOPEN:
            return .io("cannot open \(path): check that its folder exists and is readable "
                + "and writable (\(self))")
        case SQLITE_CORRUPT:
            return .io("\(path) is corrupt; restore it from a backup (\(self))")
        case SQLITE_TOOBIG:
            return .invalid("\(path): a value is larger than SQLite accepts (\(self))")
        default:
            return .io("\(path): \(self)")
        }
    }
}
