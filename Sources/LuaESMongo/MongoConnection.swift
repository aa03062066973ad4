import CMongoc
import Foundation
import LuaESStore

/// One libmongoc client pool (pooling, server monitoring and reconnects are libmongoc's) and
/// the database commands run on it. Each command pops a client and pushes it back (a client
/// is not thread safe; the pool is). `close()` destroys the pool once no command is running.
final class MongoConnection: @unchecked Sendable {
    // @unchecked: `pool`, `running` and `closed` are only read and written while `lock` is
    // held; a command uses the pool outside the lock, but `running` keeps it from being
    // destroyed until the command is done. libmongoc's pool itself is thread safe.
    private let lock = NSLock()
    private var pool: OpaquePointer?
    private var running = 0
    private var closed = false
    let configuration: MongoStoreConfiguration

    private static let initialized: Void = { esm_init() }()

    /// `mongoc_init()`, once per process ("must be called before any other libmongoc function").
    static func initializeLibrary() { _ = initialized }

    init(configuration: MongoStoreConfiguration) throws(StoreError) {
        Self.initializeLibrary()
        self.configuration = configuration
        var error = bson_error_t()
        var database = [CChar](repeating: 0, count: 256)
        guard let pool = esm_pool_new(configuration.url, MongoStoreConfiguration.defaultSelectionTimeoutMS,
                                      &database, database.count, &error) else {
            throw StoreError.invalid("MongoDB URL \(configuration.displayName): \(MongoFailure(error, wrote: false).message)")
        }
        self.pool = pool
    }

    deinit {
        if let pool { mongoc_client_pool_destroy(pool) }
    }

    var server: String { configuration.displayName }

    var isClosed: Bool { lock.withLock { closed } }

    func close() {
        lock.lock()
        closed = true
        lock.unlock()
        destroyIfIdle()
    }

    /// The pool for one command, counted as running; nil once closed.
    private func acquire() -> OpaquePointer? {
        lock.lock()
        defer { lock.unlock() }
        guard !closed, let pool else { return nil }
        running += 1
        return pool
    }

    private func release() {
        lock.lock()
        running -= 1
        lock.unlock()
        destroyIfIdle()
    }

    private func destroyIfIdle() {
        lock.lock()
        let idle = closed && running == 0 ? pool : nil
        if idle != nil { pool = nil }
        lock.unlock()
        if let idle { mongoc_client_pool_destroy(idle) }
    }

    enum Kind: Int32 {
        case read = 0, write = 1, readWrite = 2
    }

    /// Runs `command` on the store's database; the reply, or why there is none. A reply with
    /// `ok: 0` is a failure; write errors inside an `ok: 1` reply are the caller's to read.
    func run(_ command: BSONDocument, _ kind: Kind) throws(MongoFailure) -> BSONFields {
        guard let pool = acquire() else { throw MongoFailure(kind: .other, message: "closed") }
        var error = bson_error_t()
        var reply: UnsafeMutablePointer<UInt8>?
        var length: UInt32 = 0
        let bytes = command.bytes
        let ok = bytes.withUnsafeBufferPointer { buffer in
            esm_command(pool, configuration.database, kind.rawValue, buffer.baseAddress, buffer.count, &reply, &length, &error)
        }
        release()
        defer { free(reply) }
        guard ok else { throw MongoFailure(error, wrote: kind != .read) }
        guard let reply, let fields = BSONFields.parse(UnsafeRawBufferPointer(start: reply, count: Int(length))) else {
            throw MongoFailure(kind: .other, message: "the server's reply is not BSON")
        }
        return fields
    }
}
