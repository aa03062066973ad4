import CSQLite

/// One prepared statement, owned by the `SQLiteConnection` that prepared it and used
/// only by the thread currently holding that connection.
///
/// Parameters are numbered from 1 and columns from 0, as in SQLite's C API. A statement
/// is reset after every use (`SQLiteConnection.withStatement`), so it never keeps a read
/// transaction open between calls.
final class SQLiteStatement {
    /// `SQLITE_TRANSIENT`, which the C macro defines as the destructor `(void *)-1`:
    /// "SQLite makes its own private copy of the data immediately, before the
    /// sqlite3_bind_*() routine returns."
    private static var transient: sqlite3_destructor_type {
        unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    }

    let sql: String
    private var handle: OpaquePointer?
    private let connection: OpaquePointer

    init(sql: String, connection: OpaquePointer) throws {
        self.sql = sql
        self.connection = connection
        var statement: OpaquePointer?
        // "SQLITE_PREPARE_PERSISTENT ... is a hint to the query planner that the prepared
        // statement will be retained for a long time and probably reused many times."
        let code = sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw SQLiteError(code: code, connection: connection, sql: sql)
        }
        handle = statement
    }

    deinit { finalize() }

    /// Releases the statement; the connection finalizes all of its statements before closing.
    func finalize() {
        if let handle { sqlite3_finalize(handle) }
        handle = nil
    }

    // MARK: Binding

    func bind(_ value: Int64, at index: Int32) throws {
        try check(sqlite3_bind_int64(handle, index, value))
    }

    func bind(_ value: Int, at index: Int32) throws {
        try bind(Int64(value), at: index)
    }

    /// Binds `value` as text, by length: embedded NUL characters survive.
    /// Binds text, or NULL when nil.
    func bind(_ value: String?, at index: Int32) throws {
        guard let value else {
            try check(sqlite3_bind_null(handle, index))
            return
        }
        try bind(value, at: index)
    }

    func bind(_ value: String, at index: Int32) throws {
        var value = value
        let code = value.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                guard let start = chars.baseAddress else {
                    // A non-null pointer for "", so the value is '' and not NULL.
                    return sqlite3_bind_text64(handle, index, "", 0, Self.transient, UInt8(SQLITE_UTF8))
                }
                return sqlite3_bind_text64(handle, index, start, UInt64(chars.count), Self.transient, UInt8(SQLITE_UTF8))
            }
        }
        try check(code)
    }

    /// Binds bytes as a BLOB, or NULL when nil.
    func bind(blob value: [UInt8]?, at index: Int32) throws {
        guard let value else {
            try check(sqlite3_bind_null(handle, index))
            return
        }
        let code = value.withUnsafeBytes { bytes in
            // a non-null pointer for an empty blob, so the value is x'' and not NULL
            sqlite3_bind_blob64(handle, index, bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1), UInt64(bytes.count),
                                Self.transient)
        }
        try check(code)
    }

    // MARK: Stepping

    /// Runs the statement one step: true when a row is available, false when it is done.
    @inline(__always)
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        if code == SQLITE_ROW { return true }
        if code == SQLITE_DONE { return false }
        throw SQLiteError(code: code, connection: connection, sql: sql)
    }

    /// Unbinds every parameter (they become NULL).
    func clearBindings() {
        sqlite3_clear_bindings(handle)
    }

    /// Readies the statement for another run; bindings stay as they were.
    func reset() {
        // The result repeats the last step's error, which that step already reported.
        sqlite3_reset(handle)
    }

    // MARK: Columns

    @inline(__always)
    func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    @inline(__always)
    func isNull(at column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    /// The column as text, decoded without Foundation (invalid UTF-8 is repaired, not trusted).
    @inline(__always)
    func string(at column: Int32) -> String {
        // Text first, then its length: "call sqlite3_column_text() first ... then invoke
        // sqlite3_column_bytes() to find the size of the result".
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// The column as text, reusing `previous` when the bytes are the same: rows of one
    /// stream repeat their type and stream names, and for names too long to be stored
    /// inline in a `String` (over 15 bytes) this saves an allocation per row.
    @inline(__always)
    func string(at column: Int32, reusing previous: inout String) -> String {
        guard let text = sqlite3_column_text(handle, column) else { return "" }
        let bytes = UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column)))
        guard bytes.count > 15 else { return String(decoding: bytes, as: UTF8.self) }
        let same = previous.utf8.withContiguousStorageIfAvailable { $0.elementsEqual(bytes) }
        if same != true { previous = String(decoding: bytes, as: UTF8.self) }
        return previous
    }

    /// SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL or SQLITE_FLOAT.
    @inline(__always)
    func type(at column: Int32) -> Int32 {
        sqlite3_column_type(handle, column)
    }

    /// The column's BLOB bytes, valid until the next step or reset.
    @inline(__always)
    func blob(at column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let bytes = sqlite3_column_blob(handle, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: bytes.assumingMemoryBound(to: UInt8.self),
                                   count: Int(sqlite3_column_bytes(handle, column)))
    }

    /// The column's text bytes, valid until the next step or reset (no copy, no decoding).
    @inline(__always)
    func bytes(at column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let text = sqlite3_column_text(handle, column) else { return UnsafeBufferPointer(start: nil, count: 0) }
        return UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(handle, column)))
    }

    private func check(_ code: Int32) throws {
        if code != SQLITE_OK { throw SQLiteError(code: code, connection: connection, sql: sql) }
    }
}
