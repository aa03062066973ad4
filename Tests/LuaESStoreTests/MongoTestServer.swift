import Foundation
import LuaESCore
@testable import LuaESMongo
@testable import LuaESStore
import LuaESTestSupport

/// The MongoDB of the tests: the server at `ESRUN_TEST_MONGODB_URL` (`mongodb://HOST:PORT`),
/// which scripts/test.sh sets after starting nx-27017 (scripts/mongo-test-server.sh). Without
/// it the MongoDB tests are skipped, and this says so on stderr once.
enum MongoTestServer {
    static let url: String? = {
        let value = ProcessInfo.processInfo.environment["ESRUN_TEST_MONGODB_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if value == nil {
            FileHandle.standardError.write(Data(("WARNING: MongoDB tests SKIPPED: ESRUN_TEST_MONGODB_URL is not set "
                + "(scripts/test.sh starts nx-27017 with scripts/mongo-test-server.sh)\n").utf8))
        }
        return value
    }()

    /// A database name of its own for each test (MongoDB allows 63 bytes, no `/\. "$`).
    static func freshDatabase(_ hint: String = "t") -> String {
        hint + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
    }

    /// The server's URL with `database` as its path, and `options` as its query.
    static func url(database: String, options: String = "") -> String {
        var base = url ?? "mongodb://127.0.0.1:1"
        if let query = base.firstIndex(of: "?") { base = String(base[..<query]) }
        while base.hasSuffix("/") { base.removeLast() }
        return base + "/" + database + (options.isEmpty ? "" : "?" + options)
    }

    static func configuration(database: String, options: String = "") throws -> MongoStoreConfiguration {
        try MongoStoreConfiguration(url: url(database: database, options: options))
    }

    /// Drops a test's database (nx-27017 keeps one SQLite file a database until it stops).
    static func drop(database: String) {
        guard let connection = try? MongoConnection(configuration: configuration(database: database)) else { return }
        defer { connection.close() }
        do { _ = try connection.run(BSONDocument { $0.append("dropDatabase", int32: 1) }, .write) } catch {
            FileHandle.standardError.write(Data("dropping test database \(database) failed: \(error)\n".utf8))
        }
    }
}

extension StoreFactory {
    /// A `MongoEventStore` on a database named after the test's folder: reopening finds it again.
    static let mongo = StoreFactory(name: "MongoEventStore", persists: true, open: { directory in
        try MongoEventStore(configuration: MongoTestServer.configuration(database: database(of: directory)))
    }, dispose: { directory in
        MongoTestServer.drop(database: database(of: directory))
    }, keepsViews: false)

    private static func database(of directory: TemporaryDirectory) -> String {
        "t_" + directory.url.lastPathComponent.replacingOccurrences(of: "luaes-tests-", with: "")
            .replacingOccurrences(of: "-", with: "").replacingOccurrences(of: ".", with: "").prefix(40).lowercased()
    }
}

extension SnapshotStoreFactory {
    /// MongoDB snapshots in a database of their own (`--snapshots mongodb://`).
    static let mongo = SnapshotStoreFactory(name: "MongoSnapshotStore") { _ in
        try MongoSnapshotStore(configuration: MongoTestServer.configuration(database: MongoTestServer.freshDatabase("snap")))
    }
}
