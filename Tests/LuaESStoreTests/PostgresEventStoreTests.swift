import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESPostgres
@testable import LuaESStore
import Testing

/// What the PostgreSQL store adds to the contract (StoreContract runs it too): the feed's
/// fence under concurrent writers, several stores on one schema, lost connections, the
/// schema version, and errors that say where the server is.
@Suite("PostgresEventStore")
struct PostgresEventStoreTests {
    @Test func aServerThatIsDownIsAClearError() throws {
        let started = ContinuousClock.now
        let error = #expect(throws: StoreError.self) {
            try PostgresEventStore(url: "postgres://postgres@127.0.0.1:1/postgres?connect_timeout=2")
        }
        #expect(error?.description.contains("127.0.0.1:1") == true, "\(String(describing: error))")
        #expect(error?.description.contains("cannot connect") == true, "\(String(describing: error))")
        #expect(error?.kind == .unavailable, "connection refused: trying again later may work")
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func urlsAreCheckedBeforeConnecting() throws {
        let configuration = try PostgresStoreConfiguration(url: "postgresql://me:p%40ss@db.local:6543/events?schema=shop&pool=4&connect_timeout=1.5")
        #expect(configuration == PostgresStoreConfiguration(host: "db.local", port: 6543, username: "me", password: "p@ss",
                                                            database: "events", schema: "shop", poolSize: 4,
                                                            connectTimeout: .milliseconds(1500)))
        #expect(!configuration.displayName.contains("p@ss"))
        for bad in ["mysql://x/y", "postgres://h/db?schema=Bad-Name", "postgres://h/db?pool=0", "postgres://h/db?sslmode=verify",
                    "postgres://h/db?sslmode=require&sslrootcert=/no/such/ca.pem", "postgres://h/db?sslrootcert=/etc/hostname",
                    "postgres://h/db?statement_timeout=-1", "postgres://h/db?colour=blue", "not a url"] {
            do {
                _ = try PostgresStoreConfiguration(url: bad)
                Issue.record("\(bad) must be refused")
            } catch let error as InputError {
                #expect(error.code == "bad_url" && error.kind == .invalid, "\(bad): \(error)")
            }
        }
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func aSchemaOfANewerEsrunIsRefused() throws {
        let schema = PostgresTestServer.freshSchema()
        defer { PostgresTestServer.drop(schema: schema) }
        try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema)).close()
        try PostgresTestServer.execute("UPDATE \"\(schema)\".schema_version SET version = 99")
        let error = #expect(throws: StoreError.self) {
            try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        }
        #expect(error?.isInvalid == true)
        #expect(error?.description.contains("newer esrun") == true, "\(String(describing: error))")
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func twoStoresOnOneSchemaNeverShareAVersion() throws {
        let schema = PostgresTestServer.freshSchema()
        defer { PostgresTestServer.drop(schema: schema) }
        let nodes = try (0..<2).map { _ in try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema)) }
        defer { for node in nodes { try? node.close() } }  // closing only stops the pools
        let stream = StreamID(aggregate: "Counter", key: "shared")
        let conflicts = Locked(0)
        let failures = Locked<[String]>([])
        onThreads(6) { index in
            let store = nodes[index % 2]
            var appended = 0
            while appended < 15 {
                do {
                    try store.append(makeEvents(1 + appended % 2, start: index * 100 + appended), to: stream,
                                     expectedVersion: try store.version(of: stream))
                    appended += 1
                } catch let error as StoreError where error.isConflict {
                    conflicts.withLock { $0 += 1 }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
            }
        }
        #expect(failures.current.isEmpty)
        let versions = try nodes[1].events(of: stream).map(\.version)
        #expect(versions == Array(1...Int64(versions.count)))
        #expect(versions.count == 6 * (8 * 1 + 7 * 2))
        #expect(try nodes[0].events(after: 0, limit: 10_000).map(\.version) == versions)
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func lostConnectionsAreReplaced() throws {
        let schema = PostgresTestServer.freshSchema()
        defer { PostgresTestServer.drop(schema: schema) }
        let store = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer { try? store.close() }  // closing only stops the pool
        let stream = StreamID(aggregate: "Counter", key: "a")
        try store.append(makeEvents(2), to: stream, expectedVersion: 0)
        onThreads(4) { _ in for _ in 0..<5 { _ = try? store.events(of: stream) } }  // several pooled connections
        // What a server restart does to the pool's connections.
        try PostgresTestServer.execute("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'esrun/\(schema)'
            """)
        #expect(try store.events(of: stream).count == 2)
        for version in 2..<6 { try store.append(makeEvents(1), to: stream, expectedVersion: Int64(version)) }
        #expect(try store.version(of: stream) == 6)
    }
}
