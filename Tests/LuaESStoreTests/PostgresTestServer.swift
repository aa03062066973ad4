import Foundation
import Logging
import LuaESCore
import LuaESTestSupport
@testable import LuaESPostgres
@testable import LuaESStore
import PostgresNIO
import Testing

/// The PostgreSQL server of the tests: `ESRUN_TEST_POSTGRES_URL`, which scripts/test.sh sets
/// after starting a throwaway cluster (scripts/postgres-test-server.sh). Without it the
/// PostgreSQL tests are skipped, and this says so on stderr once.
enum PostgresTestServer {
    static let url: String? = {
        let value = ProcessInfo.processInfo.environment["ESRUN_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if value == nil {
            FileHandle.standardError.write(Data(("PostgreSQL tests SKIPPED: ESRUN_TEST_POSTGRES_URL is not set "
                + "(scripts/test.sh starts a server with scripts/postgres-test-server.sh)\n").utf8))
        }
        return value
    }()

    static var isAvailable: Bool { url != nil }

    /// A schema name of its own for each test, so that tests running at once do not meet.
    static func freshSchema(_ hint: String = "t") -> String {
        hint + "_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
    }

    /// The test server's configuration with `schema`.
    static func configuration(schema: String) throws -> PostgresStoreConfiguration {
        var configuration = try PostgresStoreConfiguration(url: url ?? "postgres://127.0.0.1")
        configuration.schema = schema
        return configuration
    }

    /// The URL of the test server with `?schema=`.
    static func url(schema: String) -> String {
        (url ?? "") + "?schema=" + schema
    }

    /// Runs one SQL statement outside any store (dropping a schema, faking a newer version).
    static func execute(_ sql: String) throws {
        let connection = try connect()
        defer { close(connection) }
        try execute(sql, on: connection)
    }

    /// Runs one SQL statement on `connection` (one the test holds, in a transaction of its own).
    static func execute(_ sql: String, on connection: PostgresConnection) throws {
        let logger = Logger(label: "test")
        try PostgresEventStore.blocking { () -> Void in
            try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
        }
    }

    /// Runs one SQL statement outside any store and returns the first column of its first
    /// row as an integer (nil without rows).
    @discardableResult
    static func integer(_ sql: String) throws -> Int64? {
        let connection = try connect()
        defer { close(connection) }
        return try integer(sql, on: connection)
    }

    /// Runs one SQL statement on `connection` and returns the first column of its first row
    /// as an integer (nil without rows).
    @discardableResult
    static func integer(_ sql: String, on connection: PostgresConnection) throws -> Int64? {
        let logger = Logger(label: "test")
        return try PostgresEventStore.blocking {
            var first: Int64?
            for try await row in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger) where first == nil {
                let cell = row.makeRandomAccess()[0]
                first = cell.bytes == nil ? nil : try cell.decode(Int64.self)
            }
            return first
        }
    }

    /// A connection of the test's own to the server, outside any store; `close(_:)` it.
    static func connect() throws -> PostgresConnection {
        let configuration = try configuration(schema: "public")
        let direct = PostgresConnection.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: .disable)
        let logger = Logger(label: "test")
        return try PostgresEventStore.blocking {
            try await PostgresConnection.connect(configuration: direct, id: 1, logger: logger)
        }
    }

    /// Closes a connection from `connect()`; failing only leaves it to the server to close.
    static func close(_ connection: PostgresConnection) {
        _ = try? PostgresEventStore.blocking { try await connection.close() }
    }

    /// Drops a test's schema; failing only leaves litter in the throwaway cluster.
    static func drop(schema: String) {
        do { try execute("DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE") } catch {
            FileHandle.standardError.write(Data("dropping test schema \(schema) failed: \(error)\n".utf8))
        }
    }
}

extension StoreFactory {
    /// A `PostgresEventStore` in a schema named after the test's folder: reopening finds it again.
    static let postgres = StoreFactory(name: "PostgresEventStore", persists: true, open: { directory in
        try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema(of: directory)))
    }, dispose: { directory in
        PostgresTestServer.drop(schema: schema(of: directory))
    })

    private static func schema(of directory: TemporaryDirectory) -> String {
        "t_" + directory.url.lastPathComponent.replacingOccurrences(of: "luaes-tests-", with: "")
            .replacingOccurrences(of: "-", with: "").lowercased()
    }
}
