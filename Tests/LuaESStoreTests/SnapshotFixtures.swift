import Foundation
import Logging
import LuaESCore
import LuaESDynamo
import LuaESRedis
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// One kind of snapshot store the snapshot contract runs against, on fresh storage per test.
struct SnapshotStoreFactory: Sendable, CustomTestStringConvertible {
    let name: String
    let open: @Sendable (TemporaryDirectory) throws -> any SnapshotStore
    var dispose: @Sendable (TemporaryDirectory) -> Void = { _ in }
    /// The largest snapshot in bytes the store documents, when it has a limit.
    var maxBytes: Int? = nil

    var testDescription: String { name }

    /// Every event store keeps snapshots of its own.
    init(_ events: StoreFactory) {
        name = events.name
        open = events.open
        dispose = events.dispose
        maxBytes = events.maxAppendBytes
    }

    init(name: String, maxBytes: Int? = nil, open: @escaping @Sendable (TemporaryDirectory) throws -> any SnapshotStore) {
        self.name = name
        self.maxBytes = maxBytes
        self.open = open
    }

    /// Redis with a key prefix of the test's own (its keys are left to the throwaway server).
    static func redis(_ url: @autoclosure @escaping @Sendable () -> String?, name: String) -> SnapshotStoreFactory {
        SnapshotStoreFactory(name: name) { _ in
            let prefix = RedisTestServer.freshPrefix()
            return try RedisSnapshotStore(configuration: RedisSnapshotStoreConfiguration(
                url: RedisTestServer.adding("prefix=\(prefix)", to: url() ?? "redis://127.0.0.1")))
        }
    }

    /// The routing wrapper over an event store, its snapshots in a SQLite file of their own.
    static let separateSQLite = SnapshotStoreFactory(name: "SeparateSnapshotsEventStore(memory, SQLite)") { directory in
        SeparateSnapshotsEventStore(events: InMemoryEventStore(), snapshots: try SQLiteEventStore(path: directory.path("snapshots.db")))
    }

    /// The routing wrapper with its snapshots in Redis.
    static let separateRedis = SnapshotStoreFactory(name: "SeparateSnapshotsEventStore(SQLite, Redis)") { directory in
        SeparateSnapshotsEventStore(
            events: try SQLiteEventStore(path: directory.path("store.db")),
            snapshots: try RedisSnapshotStore(configuration: RedisSnapshotStoreConfiguration(
                url: RedisTestServer.adding("prefix=\(RedisTestServer.freshPrefix())", to: RedisTestServer.url ?? ""))))
    }

    /// DynamoDB snapshots in a table of their own (`--snapshots dynamodb://`), dropped after the test.
    static let dynamo = SnapshotStoreFactory(name: "DynamoSnapshotStore", maxBytes: 320_000) { _ in
        try DynamoSnapshotStore(configuration: DynamoTestServer.configuration(table: DynamoTestServer.freshTable("snap")))
    }

    /// Every snapshot store: each event store, Redis plain and over TLS when the tests have a
    /// server (`ESRUN_TEST_REDIS_URL`), DynamoDB's own when they have moto, MongoDB's when they have a MongoDB, and the routing wrapper.
    static let all: [SnapshotStoreFactory] = StoreFactory.all.map(SnapshotStoreFactory.init) + [.separateSQLite]
        + (DynamoTestServer.endpoint != nil ? [.dynamo] : [])
        + (MongoTestServer.url != nil ? [.mongo] : [])
        + (RedisTestServer.isAvailable
            ? [.redis(RedisTestServer.url, name: "RedisSnapshotStore"), .separateRedis]
                + (RedisTestServer.tlsURL != nil ? [.redis(RedisTestServer.tlsURL, name: "RedisSnapshotStore(TLS)")] : [])
            : [])
}

/// A snapshot store of one kind on fresh storage, for one test.
final class SnapshotStoreFixture {
    let factory: SnapshotStoreFactory
    let directory: TemporaryDirectory
    let store: any SnapshotStore

    init(_ factory: SnapshotStoreFactory) throws {
        self.factory = factory
        directory = try TemporaryDirectory()
        store = try factory.open(directory)
    }

    deinit {
        do { try store.close() } catch { Issue.record(error, "closing the \(factory.name) failed") }
        factory.dispose(directory)
    }
}
