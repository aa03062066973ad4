import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESPostgres
@testable import LuaESStore
import Testing

/// Appends in one round trip (the procedure `append_events`): group commits whose batches
/// fail alone, and the feed under writers in two processes.
@Suite("PostgreSQL appends in one round trip")
struct PostgresAppendTests {
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func aGroupCommitWithAConflictCommitsTheOthersInOneStatement() throws {
        let schema = PostgresTestServer.freshSchema("group")
        defer { PostgresTestServer.drop(schema: schema) }
        let store = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer { try? store.close() }  // closing only stops the pool
        let (a, b, c, d) = (StreamID(aggregate: "Counter", key: "a"), StreamID(aggregate: "Counter", key: "b"),
                            StreamID(aggregate: "Counter", key: "c"), StreamID(aggregate: "Counter", key: "d"))
        try store.append(makeEvents(2), to: b, expectedVersion: 0)

        let before = store.hooks.appendStatements
        let results = try store.append(batches: [
            AppendBatch(stream: a, expectedVersion: 0, events: makeEvents(2, start: 10)),
            AppendBatch(stream: b, expectedVersion: 0, events: makeEvents(1, start: 20)),
            AppendBatch(stream: d, expectedVersion: 0, events: []),
            AppendBatch(stream: c, expectedVersion: 0, events: makeEvents(3, start: 30)),
        ])
        #expect(store.hooks.appendStatements - before == 1, "one statement, one round trip")

        #expect(results.count == 4)
        let recordedA = try results[0].get()
        #expect(recordedA.map(\.version) == [1, 2])
        #expect(results[1].failure?.conflict?.expected == 0)
        #expect(results[1].failure?.conflict?.actual == 2)
        #expect(results[2].failure?.kind == .invalid)
        let recordedC = try results[3].get()
        #expect(recordedC.map(\.version) == [1, 2, 3])
        #expect(try store.events(of: a) == recordedA)
        #expect(try store.events(of: c) == recordedC)
        #expect(try store.version(of: b) == 2)
        #expect(try store.version(of: d) == 0)
        #expect(recordedA.last!.position < recordedC.first!.position, "batches take their positions in order")

        // A single-stream append keeps its errors, in one statement too.
        let single = store.hooks.appendStatements
        #expect(throws: StoreError.conflict(b, expected: 1, actual: 2)) { try store.append(makeEvents(1), to: b, expectedVersion: 1) }
        #expect(store.hooks.appendStatements - single == 1)
        #expect(throws: StoreError.invalid("an append needs at least one event")) { try store.append([], to: b, expectedVersion: 2) }
    }

    /// A group commit of more batches than a backend caches subtransactions for is cut into
    /// CALLs of `batchesPerCall`; each batch still succeeds or fails alone.
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func aLargeGroupCommitIsCutIntoCallsOfSixtyFourBatches() throws {
        let schema = PostgresTestServer.freshSchema("large")
        defer { PostgresTestServer.drop(schema: schema) }
        let store = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer { try? store.close() }  // closing only stops the pool
        let taken = StreamID(aggregate: "Counter", key: "s100")
        try store.append(makeEvents(1), to: taken, expectedVersion: 0)
        let batches = (0..<150).map { i in
            AppendBatch(stream: StreamID(aggregate: "Counter", key: "s\(i)"), expectedVersion: 0, events: makeEvents(1, start: i))
        }
        let before = store.hooks.appendStatements
        let results = try store.append(batches: batches)
        #expect(store.hooks.appendStatements - before == 3, "150 batches: CALLs of 64, 64 and 22")
        #expect(results.count == 150)
        #expect(results.indices.filter { (try? results[$0].get()) == nil } == [100], "only the taken stream fails")
        #expect(try store.events(after: 0, limit: 1000).count == 150)
        let positions = results.compactMap { try? $0.get().first?.position }
        #expect(positions == positions.sorted(), "batches take their positions in order, across the CALLs")
    }

    /// Another node takes a version between this append's check and its insert (here: its
    /// append holds the row uncommitted, paused after the ordering section): the INSERT
    /// waits for that commit and fails with a unique_violation, which fails that batch alone.
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func aBatchLosingARaceToAnotherNodeFailsAlone() throws {
        let schema = PostgresTestServer.freshSchema("race")
        defer { PostgresTestServer.drop(schema: schema) }
        let configuration = try PostgresTestServer.configuration(schema: schema)
        let (slow, fast) = (try PostgresEventStore(configuration: configuration), try PostgresEventStore(configuration: configuration))
        defer { try? slow.close(); try? fast.close() }  // closing only stops the pools
        slow.hooks.pauseBeforeCommit = { .milliseconds(800) }
        let (x, y) = (StreamID(aggregate: "Counter", key: "x"), StreamID(aggregate: "Counter", key: "y"))

        let slowResult = Locked<Result<[RecordedEvent], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Thread {
            slowResult.withLock { $0 = Result { try slow.append(makeEvents(1), to: x, expectedVersion: 0) } }
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.3)  // the slow append has inserted x@1 and is sleeping before COMMIT
        let before = fast.hooks.appendStatements
        let results = try fast.append(batches: [
            AppendBatch(stream: x, expectedVersion: 0, events: makeEvents(1, start: 5)),
            AppendBatch(stream: y, expectedVersion: 0, events: makeEvents(2, start: 6)),
        ])
        done.wait()
        #expect(fast.hooks.appendStatements - before == 1)
        #expect(try slowResult.current?.get().map(\.version) == [1])
        #expect(results[0].failure?.conflict?.actual == 1, "x was taken by the other node: \(results[0])")
        #expect(try results[1].get().map(\.version) == [1, 2])
        #expect(try fast.events(of: x).map(\.data) == makeEvents(1).map(\.data))
        #expect(try fast.version(of: y) == 2)
    }

    /// 16 writers in two processes (`store-probe pg-writers`, 8 threads on a pool of its own
    /// each) with random pauses, and a reader here following the feed: the sequence it saw
    /// is the final table in position order, and holds every acknowledged event.
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func writersInTwoProcessesAndAFollowingReader() throws {
        let schema = PostgresTestServer.freshSchema("procs")
        defer { PostgresTestServer.drop(schema: schema) }
        let store = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer { try? store.close() }  // closing only stops the pool
        let directory = try TemporaryDirectory()
        let outputs = (1...2).map { directory.url.appendingPathComponent("writers-\($0).out") }
        let processes = try outputs.map {
            try Probe.launch(["pg-writers", PostgresTestServer.url(schema: schema), "8", "40"], output: $0)
        }

        var seen: [RecordedEvent] = []
        var last: Int64 = 0
        var exited = false
        while true {
            let page = try store.events(after: last, limit: 50)
            #expect(page.first.map { $0.position > last } ?? true, "the feed went back")
            seen += page
            last = page.last?.position ?? last
            if exited && page.isEmpty { break }
            exited = processes.allSatisfy { !$0.isRunning }
        }
        var acknowledged: [Int64] = []
        for (process, output) in zip(processes, outputs) {
            try Probe.wait(for: process, seconds: 120)
            #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                    "store-probe pg-writers failed: \(Probe.errors(of: process))")
            let lines = try Probe.lines(of: output)
            let acks = lines.filter { $0.hasPrefix("ack ") }.compactMap { Int64($0.dropFirst(4)) }
            #expect(lines.last == "done \(acks.count)")
            acknowledged += acks
        }
        let table = try store.events(after: 0, limit: 100_000)
        #expect(table.count > 16 * 40)
        #expect(seen.count == table.count)
        #expect(seen == table, "the reader's sequence is the table in position order")
        #expect(Set(acknowledged) == Set(table.map(\.position)), "every acknowledged event is there, and nothing else")
        #expect(acknowledged.count == table.count)
    }
}

extension PostgresAppendTests {
    /// A schema as an earlier build left it (version 2: no append procedure, no commands
    /// table), with events in it, is upgraded in place: appends go on after those events, and
    /// an idempotency key committed before the upgrade stays taken.
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func aVersionTwoSchemaIsUpgradedInPlace() throws {
        let schema = PostgresTestServer.freshSchema("upgrade")
        defer { PostgresTestServer.drop(schema: schema) }
        let quoted = "\"\(schema)\""
        try PostgresTestServer.execute("CREATE SCHEMA \(quoted)")
        try PostgresTestServer.execute("CREATE TABLE \(quoted).schema_version (version integer NOT NULL)")
        try PostgresTestServer.execute("INSERT INTO \(quoted).schema_version (version) VALUES (2)")
        for statement in PostgresEventStore.migrations(in: quoted)[0...1].joined() { try PostgresTestServer.execute(statement) }
        try PostgresTestServer.execute("""
            INSERT INTO \(quoted).events (aggregate, "key", version, type, schema, data, meta, recorded_at, command_id)
            VALUES ('Counter', 'c1', 1, 'Incremented', 1, convert_to('{"n":1}', 'UTF8'), convert_to('{}', 'UTF8'), 0, 'key-1')
            """)

        let store = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer { try? store.close() }  // closing only stops the pool
        #expect(try PostgresTestServer.integer("SELECT max(version) FROM \(quoted).schema_version")
            == Int64(PostgresEventStore.schemaVersion))
        let stream = StreamID(aggregate: "Counter", key: "c1")
        let recorded = try store.append(makeEvents(2, start: 2), to: stream, expectedVersion: 1)
        #expect(recorded.map(\.version) == [2, 3])
        #expect(recorded.map(\.position) == [2, 3])
        #expect(try store.events(after: 0, limit: 10).map(\.data) == [#"{"n":1}"#] + makeEvents(2, start: 2).map(\.data))
        var again = makeEvents(1, start: 4)
        again[0].commandID = "key-1"
        let error = #expect(throws: StoreError.self) { try store.append(again, to: stream, expectedVersion: 3) }
        #expect(error?.duplicateCommandID == "key-1", "\(String(describing: error))")
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
