import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESPostgres
@testable import LuaESStore
import Testing

/// What the PostgreSQL store adds to the projection contract (ProjectionContract runs it
/// too): one page applied once when nodes race for it, and a schema of the previous
/// version (events only) upgraded in place.
@Suite("PostgresEventStore projections")
struct PostgresProjectionTests {
    /// Pages of several runners, all computed from the same checkpoint, sent while the
    /// generation's row is locked, so that they all wait for the lock and then race for it:
    /// exactly one is applied, the others are refused and write nothing.
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func racingRunnersApplyAPageOnce() throws {
        let schema = PostgresTestServer.freshSchema("race")
        defer { PostgresTestServer.drop(schema: schema) }
        let nodes = try (0..<2).map { _ in try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema)) }
        defer { for node in nodes { try? node.close() } }  // closing only stops the pools
        let g = try nodes[0].createProjectionGeneration(name: "P", fingerprint: "f", activate: true).generation
        try nodes[0].commitProjection(ProjectionCommit(name: "P", generation: g, from: 0, to: 1,
                                                       changes: [ViewChange(key: "seed", document: "0")]))

        let holder = try PostgresTestServer.connect()
        defer { PostgresTestServer.close(holder) }
        try PostgresTestServer.execute("BEGIN", on: holder)
        try PostgresTestServer.execute("SELECT 1 FROM \"\(schema)\".projections WHERE name = 'P' FOR UPDATE", on: holder)
        let runners = 4
        let applied = Locked<[Int]>([])
        let failures = Locked<[String]>([])
        let group = DispatchGroup()
        for runner in 0..<runners {
            group.enter()
            Thread {
                defer { group.leave() }
                // Each runner's page changes a key of its own, a shared key, and deletes the seed;
                // one activates too, to cover the page with a transaction of its own.
                let page = ProjectionCommit(name: "P", generation: g, from: 1, to: Int64(10 + runner), changes: [
                    ViewChange(key: "runner\(runner)", document: String(runner)),
                    ViewChange(key: "shared", document: String(runner)),
                    ViewChange(key: "seed", document: nil),
                ], activate: runner == 0)
                do {
                    try nodes[runner % 2].commitProjection(page)
                    applied.withLock { $0.append(runner) }
                } catch let error as StoreError where error.isCheckpointMoved {
                    // refused, as all but one must be
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }.start()
        }
        // Wait until they all wait for the lock (or some failed at once), then let them go.
        let waiting = """
            SELECT count(*) FROM pg_stat_activity WHERE application_name = 'esrun/\(schema)' AND wait_event_type = 'Lock'
            """
        let deadline = Date().addingTimeInterval(20)
        while try PostgresTestServer.integer(waiting) ?? 0 < Int64(runners), failures.current.isEmpty, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.02)
        }
        #expect(try PostgresTestServer.integer(waiting) == Int64(runners), "every runner waits for the generation's lock")
        try PostgresTestServer.execute("COMMIT", on: holder)
        group.wait()

        #expect(failures.current.isEmpty)
        let winners = applied.current
        try #require(winners.count == 1, "exactly one page applied: \(winners)")
        let winner = winners[0]
        let documents = try nodes[1].viewDocuments(projection: "P", generation: g, prefix: "", after: nil, limit: 10)
        #expect(documents == [ViewDocument(key: "runner\(winner)", document: String(winner)),
                              ViewDocument(key: "shared", document: String(winner))])
        #expect(try nodes[1].projectionGenerations(named: "P").first?.position == Int64(10 + winner))
    }

    /// Two nodes commit pages of the same runner over and over, each from the checkpoint it
    /// last read, with no lock to line them up: every page is applied once or refused.
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func twoNodesCountingThroughOneCheckpoint() throws {
        let schema = PostgresTestServer.freshSchema("race")
        defer { PostgresTestServer.drop(schema: schema) }
        let nodes = try (0..<2).map { _ in try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema)) }
        defer { for node in nodes { try? node.close() } }  // closing only stops the pools
        let g = try nodes[0].createProjectionGeneration(name: "Count", fingerprint: "f", activate: true).generation
        let applied = Locked(0)
        let failures = Locked<[String]>([])
        onThreads(4) { index in
            let store = nodes[index % 2]
            do {
                for _ in 0..<25 {
                    // Read the checkpoint and the count it covers, add one, commit from there.
                    let position = try store.projectionGenerations(named: "Count").first?.position ?? -1
                    let count = try store.viewDocument(projection: "Count", generation: g, key: "n").flatMap { Int64($0) } ?? 0
                    do {
                        try store.commitProjection(ProjectionCommit(name: "Count", generation: g, from: position, to: position + 1,
                                                                    changes: [ViewChange(key: "n", document: String(count + 1))]))
                        applied.withLock { $0 += 1 }
                    } catch let error as StoreError where error.isCheckpointMoved {
                        continue
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }
        #expect(failures.current.isEmpty)
        let position = try #require(try nodes[0].projectionGenerations(named: "Count").first?.position)
        #expect(position == Int64(applied.current))
        // A page read its count after its checkpoint: if another page came in between, its
        // checkpoint had moved and it was refused. So each applied page added one to the
        // count of its checkpoint, and a page applied twice would leave the count behind.
        #expect(try nodes[0].viewDocument(projection: "Count", generation: g, key: "n") == String(position))
    }

    /// A schema as the previous build (schema version 1, events and snapshots only) left it,
    /// with an event in it, is upgraded in place when this build opens it.
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func aVersionOneSchemaIsUpgradedInPlace() throws {
        let schema = PostgresTestServer.freshSchema("upgrade")
        defer { PostgresTestServer.drop(schema: schema) }
        let quoted = "\"\(schema)\""
        try PostgresTestServer.execute("CREATE SCHEMA \(quoted)")
        try PostgresTestServer.execute("CREATE TABLE \(quoted).schema_version (version integer NOT NULL)")
        try PostgresTestServer.execute("INSERT INTO \(quoted).schema_version (version) VALUES (1)")
        for statement in PostgresEventStore.migrations(in: quoted)[0] { try PostgresTestServer.execute(statement) }
        try PostgresTestServer.execute("""
            INSERT INTO \(quoted).events (aggregate, "key", version, type, schema, data, meta, recorded_at)
            VALUES ('Counter', 'c1', 1, 'Incremented', 1, convert_to('{"n":1}', 'UTF8'), convert_to('{}', 'UTF8'), 0)
            """)

        let store = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        #expect(try PostgresTestServer.integer("SELECT max(version) FROM \(quoted).schema_version") == Int64(PostgresEventStore.schemaVersion))
        #expect(try store.events(after: 0, limit: 10).map(\.data) == [#"{"n":1}"#])
        #expect(try store.headPosition() == 1)
        let g = try store.createProjectionGeneration(name: "P", fingerprint: "f", activate: true).generation
        try store.commitProjection(ProjectionCommit(name: "P", generation: g, from: 0, to: 1,
                                                    changes: [ViewChange(key: "c1", document: "1")]))
        try store.close()

        let reopened = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer { try? reopened.close() }  // closing only stops the pool
        #expect(try reopened.viewDocument(projection: "P", generation: g, key: "c1") == "1")
        #expect(try PostgresTestServer.integer("SELECT count(*) FROM \(quoted).schema_version") == 1)
    }

    /// The head is the end of what the feed shows: an event committed while an older
    /// transaction is still open is held back by the fence, so the head waits for that
    /// transaction to end (as the feed does) rather than answer a position the feed would
    /// not show yet. The older transaction is held for less than `feedSettleWait`: it holds
    /// back the feeds of the tests running beside this one too.
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func theHeadWaitsForTheFence() throws {
        let schema = PostgresTestServer.freshSchema("head")
        defer { PostgresTestServer.drop(schema: schema) }
        let store = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer { try? store.close() }  // closing only stops the pool
        let first = try store.append(makeEvents(1), to: StreamID(aggregate: "C", key: "a"), expectedVersion: 0)[0].position
        #expect(try store.headPosition() == first)

        // An open transaction whose id is older than the next append's.
        let holder = try PostgresTestServer.connect()
        defer { PostgresTestServer.close(holder) }
        try PostgresTestServer.execute("BEGIN", on: holder)
        try PostgresTestServer.execute("SELECT pg_current_xact_id()", on: holder)
        let second = try store.append(makeEvents(1), to: StreamID(aggregate: "C", key: "b"), expectedVersion: 0)[0].position
        let hold = 0.3
        let released = Locked<ContinuousClock.Instant?>(nil)
        let committer = Thread {
            Thread.sleep(forTimeInterval: hold)
            released.withLock { $0 = .now }
            do { try PostgresTestServer.execute("COMMIT", on: holder) } catch { Issue.record(error, "committing the holder") }
        }
        committer.start()
        // Answered after the holder's COMMIT: `first` before it would be a feed that is
        // behind, `second` before it a head the feed cannot show yet.
        #expect(try store.headPosition() == second)
        let answered = ContinuousClock.now
        let release = try #require(released.current, "the head was answered before the older transaction ended")
        #expect(release < answered)
        #expect(try store.events(after: first, limit: 10).map(\.position) == [second])
    }
}
