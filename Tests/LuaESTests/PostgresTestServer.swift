import Foundation
import Logging
import PostgresNIO
import Testing
@testable import LuaES
@testable import LuaESPostgres

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
        let configuration = try configuration(schema: "public")
        let direct = PostgresConnection.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: .disable)
        let logger = Logger(label: "test")
        try PostgresEventStore.blocking {
            let connection = try await PostgresConnection.connect(configuration: direct, id: 1, logger: logger)
            do {
                try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger)
            } catch {
                try? await connection.close()  // the query's error is the one to report
                throw error
            }
            try await connection.close()
        }
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
