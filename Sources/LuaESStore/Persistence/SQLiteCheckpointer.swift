import CSQLite
import Foundation

/// Copies the WAL back into the database on a thread of its own, so a committing
/// command never pays for a checkpoint. The writer's WAL hook says when the log grew;
/// a PASSIVE checkpoint never blocks the writer or readers.
final class SQLiteCheckpointer: @unchecked Sendable {
    // @unchecked: `pending` and `stopped` are only touched while `condition` is locked;
    // the thread's connection is created, used and closed by that thread alone.
    static let thresholdPages: Int32 = 1000

    private let path: String
    private let condition = NSCondition()
    private var pending = false
    private var stopped = false
    private let finished = DispatchSemaphore(value: 0)

    init(path: String) {
        self.path = path
        let thread = Thread { [self] in run() }
        thread.name = "esrun-checkpointer"
        thread.start()
    }

    /// Installs the hook on the writer connection (replacing SQLite's autocheckpoint).
    func attach(to writer: OpaquePointer) {
        sqlite3_wal_hook(writer, walHook, Unmanaged.passUnretained(self).toOpaque())
    }

    func detach(from writer: OpaquePointer) {
        sqlite3_wal_hook(writer, nil, nil)
    }

    fileprivate func walGrew(pages: Int32) {
        guard pages >= Self.thresholdPages else { return }
        condition.lock()
        pending = true
        condition.signal()
        condition.unlock()
    }

    /// Stops the thread and waits until its connection is closed.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
        finished.wait()
    }

    private func run() {
        defer { finished.signal() }
        // Without its own connection there is nothing to do: the writer's backstop
        // (a synchronous checkpoint in walHook) keeps the log bounded.
        guard let connection = try? SQLiteConnection(path: path, readOnly: false) else { return }
        defer { try? connection.close() }
        while true {
            condition.lock()
            while !pending && !stopped { condition.wait() }
            let stop = stopped
            pending = false
            condition.unlock()
            if stop { return }
            sqlite3_wal_checkpoint_v2(connection.handle, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
        }
    }
}

/// WAL hook: a top-level function with a context pointer (a capturing closure
/// converted to @convention(c) crashes the 6.3 compiler).
private func walHook(_ context: UnsafeMutableRawPointer?, _ db: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ pages: Int32) -> Int32 {
    guard let context else { return SQLITE_OK }
    Unmanaged<SQLiteCheckpointer>.fromOpaque(context).takeUnretainedValue().walGrew(pages: pages)
    // Backstop when the checkpointer cannot keep up (a long reader pins the log).
    if pages > 16 * SQLiteCheckpointer.thresholdPages, let db {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
    }
    return SQLITE_OK
}
