import Foundation
import Logging
import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// One kind of store the contract suite runs against. `open` opens the store kept in a
/// folder: the first call in a fresh folder makes an empty store, a later call after
/// `close()` reopens it (when the kind `persists`).
struct StoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    let persists: Bool
    let open: @Sendable (TemporaryDirectory) throws -> any EventStore
    /// Removes storage kept outside the folder (a PostgreSQL schema) once the test is done.
    var dispose: @Sendable (TemporaryDirectory) -> Void = { _ in }
    /// The largest append (and snapshot) in bytes the store documents, when it has a limit.
    var maxAppendBytes: Int? = nil
    /// False for a store whose `projections` is nil (DynamoDB's, so far).
    var keepsViews = true

    var testDescription: String { name }

    static let memory = StoreFactory(name: "InMemoryEventStore", persists: false) { _ in InMemoryEventStore() }
    static let sqlite = StoreFactory(name: "SQLiteEventStore", persists: true) { directory in
        try SQLiteEventStore(path: directory.path("store.db"))
    }

    /// SQLite behind a middleware chain: a wrapper keeps the contract and forwards capabilities.
    static let middleware = StoreFactory(name: "MiddlewareEventStore(SQLite)", persists: true) { directory in
        MiddlewareEventStore(base: try SQLiteEventStore(path: directory.path("store.db")),
                             middleware: [LoggingStoreMiddleware(logger: Logger(label: "contract")), MetricsStoreMiddleware()])
    }

    /// SQLite with its snapshots in a SQLite file of their own: the routing wrapper keeps the contract.
    static let separateSnapshots = StoreFactory(name: "SeparateSnapshotsEventStore(SQLite, SQLite)", persists: true) { directory in
        SeparateSnapshotsEventStore(events: try SQLiteEventStore(path: directory.path("store.db")),
                                    snapshots: try SQLiteEventStore(path: directory.path("snapshots.db")))
    }

    /// Every store the contract applies to; PostgreSQL, DynamoDB and MongoDB when the tests have a server
    /// (`ESRUN_TEST_POSTGRES_URL`, see `PostgresTestServer`; `ESRUN_TEST_DYNAMODB_ENDPOINT`, see `DynamoTestServer`;
    /// `ESRUN_TEST_MONGODB_URL`, see `MongoTestServer`).
    static let all: [StoreFactory] = [.memory, .sqlite, .middleware, .separateSnapshots]
        + (PostgresTestServer.url != nil ? [.postgres] : []) + (DynamoTestServer.endpoint != nil ? [.dynamo] : [])
        + (MongoTestServer.url != nil ? [.mongo] : [])

    /// The stores the projection contract applies to: those that keep views.
    static let withViews: [StoreFactory] = all.filter(\.keepsViews)
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

extension StoreError {
    /// True for `StoreError.invalid`, whatever its message.
    var isInvalid: Bool {
        if case .invalid = reason { return true }
        return false
    }
}

/// `count` events of `type` with data `{"n":i}` for i in `start...`.
func makeEvents(_ count: Int, type: String = "Incremented", start: Int = 1) -> [NewEvent] {
    (start..<start + count).map { NewEvent(type: type, data: #"{"n":\#($0)}"#, meta: #"{"i":\#($0)}"#) }
}
