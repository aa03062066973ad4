import Foundation
import Testing
@testable import LuaES

/// A fresh folder under the system's temporary directory, deleted with its contents
/// when the last reference goes away.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("luaes-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        // Only litter in the temporary directory is at stake if this fails.
        try? FileManager.default.removeItem(at: url)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
}

/// One kind of store the contract suite runs against. `open` opens the store kept in a
/// folder: the first call in a fresh folder makes an empty store, a later call after
/// `close()` reopens it (when the kind `persists`).
struct StoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    let persists: Bool
    let open: @Sendable (TemporaryDirectory) throws -> any EventStore
    /// Removes storage kept outside the folder (a PostgreSQL schema) once the test is done.
    var dispose: @Sendable (TemporaryDirectory) -> Void = { _ in }

    var testDescription: String { name }

    static let memory = StoreFactory(name: "InMemoryEventStore", persists: false) { _ in InMemoryEventStore() }
    static let sqlite = StoreFactory(name: "SQLiteEventStore", persists: true) { directory in
        try SQLiteEventStore(path: directory.path("store.db"))
    }

    /// Every store the contract applies to; PostgreSQL when the tests have a server
    /// (`ESRUN_TEST_POSTGRES_URL`, see `PostgresTestServer`).
    static let all: [StoreFactory] = [.memory, .sqlite] + (PostgresTestServer.url != nil ? [.postgres] : [])
}

/// A store of one kind on fresh storage, for one test. Keep it alive while the store is
/// used (`defer { fixture.close() }`): its storage is deleted when it goes away.
final class StoreFixture {
    let factory: StoreFactory
    let directory: TemporaryDirectory
    private(set) var store: any EventStore

    init(_ factory: StoreFactory) throws {
        self.factory = factory
        directory = try TemporaryDirectory()
        store = try factory.open(directory)
    }

    deinit {
        close()
        factory.dispose(directory)
    }

    /// Closes the store; a close error is recorded as a test issue.
    func close() {
        do { try store.close() } catch { Issue.record(error, "closing the \(factory.name) failed") }
    }

    /// Closes the store and opens the same storage again (only for stores that persist).
    @discardableResult
    func reopen() throws -> any EventStore {
        try store.close()
        store = try factory.open(directory)
        return store
    }
}

/// A value shared between threads in a test, guarded by a lock.
final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched inside `withLock`, under `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        try lock.withLock { try body(&value) }
    }

    var current: Value { withLock { $0 } }
}

extension StoreError {
    /// True for `StoreError.invalid`, whatever its message.
    var isInvalid: Bool {
        if case .invalid = kind { return true }
        return false
    }
}

/// Runs `body(0)`, ..., `body(count - 1)` each on a thread of its own, all at once, and
/// waits for them (unlike `concurrentPerform`, whose width is the number of cores).
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let group = DispatchGroup()
    for index in 0..<count {
        group.enter()
        Thread {
            body(index)
            group.leave()
        }.start()
    }
    group.wait()
}

/// `count` events of `type` with data `{"n":i}` for i in `start...`.
func makeEvents(_ count: Int, type: String = "Incremented", start: Int = 1) -> [NewEvent] {
    (start..<start + count).map { NewEvent(type: type, data: #"{"n":\#($0)}"#, meta: #"{"i":\#($0)}"#) }
}
