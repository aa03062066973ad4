import Foundation
import LuaESCore
import LuaESTestSupport
import LuaESPostgres
@testable import LuaESStore
import Testing

/// LISTEN/NOTIFY: a store hears the commits other stores (nodes) make on the same schema.
@Suite("PostgreSQL commit notifications", .serialized)
struct PostgresCommitNotificationTests {
    /// Waits (at most 20 s: this checks that a wake-up comes, not how fast) until `condition` holds.
    func eventually(_ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if condition() { return true }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return condition()
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func anotherNodesCommitWakesTheListener() throws {
        let schema = PostgresTestServer.freshSchema("notify")
        defer { PostgresTestServer.drop(schema: schema) }
        let writer = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        let listener = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer {
            try? writer.close()
            try? listener.close()
        }
        let heard = Locked(0)
        let notifier = try #require((listener as EventStore).commitNotifier)
        notifier.onCommits { heard.withLock { $0 += 1 } }
        #expect(eventually { heard.current >= 1 }, "one wake-up once listening (a commit may have been missed before)")
        let before = heard.current
        try writer.append([NewEvent(type: "E", data: "{}")], to: StreamID(aggregate: "A", key: "k"), expectedVersion: 0)
        #expect(eventually { heard.current > before }, "the other store's commit was heard")

        // a conflict rolls back: it sends nothing
        Thread.sleep(forTimeInterval: 0.3)
        let settled = heard.current
        #expect(throws: StoreError.self) {
            try writer.append([NewEvent(type: "E", data: "{}")], to: StreamID(aggregate: "A", key: "k"), expectedVersion: 0)
        }
        Thread.sleep(forTimeInterval: 0.5)
        #expect(heard.current == settled)

        // the listening connection dies: it reconnects, wakes once, and hears commits again
        try PostgresTestServer.execute("""
            SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'esrun-listen/\(schema)'
            """)
        #expect(eventually { heard.current > settled }, "a wake-up after reconnecting")
        Thread.sleep(forTimeInterval: 0.3)
        let reconnected = heard.current
        try writer.append([NewEvent(type: "E", data: "{}")], to: StreamID(aggregate: "A", key: "k"), expectedVersion: 1)
        #expect(eventually { heard.current > reconnected }, "commits are heard after the reconnection")
    }

    @Test func storesWithoutNotificationsSayNone() throws {
        #expect((InMemoryEventStore() as EventStore).commitNotifier == nil)
        let directory = try TemporaryDirectory()
        let sqlite = try SQLiteEventStore(path: directory.path("n.db"))
        defer { try? sqlite.close() }
        #expect((sqlite as EventStore).commitNotifier == nil)
    }
}
