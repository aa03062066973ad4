import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// What only the SQLite store has: its file format checks, read-only mode, and its
/// behaviour under threads.
@Suite("SQLiteEventStore")
struct SQLiteEventStoreTests {
    let stream = StreamID(aggregate: "Counter", key: "a")

    /// Opening `path` fails with `StoreError.invalid` whose message contains `words`.
    func expectInvalid(_ path: String, readOnly: Bool = false, saying words: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: StoreError.self, sourceLocation: sourceLocation) {
            try SQLiteEventStore(path: path, readOnly: readOnly)
        }
        #expect(error?.isInvalid == true, "\(String(describing: error))", sourceLocation: sourceLocation)
        #expect(error?.description.contains(words) == true, "\(String(describing: error))",
                sourceLocation: sourceLocation)
    }

    @Test func aFileThatIsNotADatabaseIsRefusedAndLeftAlone() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("notes.txt")
        let text = String(repeating: "these are my notes, not a database\n", count: 200)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        expectInvalid(path, saying: "is not an esrun database")
        expectInvalid(path, readOnly: true, saying: "is not an esrun database")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == text)
    }

    @Test func anotherApplicationsDatabaseIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("other.db")
        let other = try SQLiteConnection(path: path, readOnly: false)
        try other.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        try other.close()
        expectInvalid(path, saying: "is not an esrun database")
        let tagged = directory.path("tagged.db")
        let foreign = try SQLiteConnection(path: tagged, readOnly: false)
        try foreign.execute("PRAGMA application_id = 42")
        try foreign.close()
        expectInvalid(tagged, saying: "another application")
    }

    @Test func aNewerSchemaVersionIsRefused() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.db")
        try SQLiteEventStore(path: path).close()
        let connection = try SQLiteConnection(path: path, readOnly: false)
        try connection.execute("PRAGMA user_version = \(SQLiteEventStore.schemaVersion + 1)")
        try connection.close()
        expectInvalid(path, saying: "newer esrun")
        expectInvalid(path, readOnly: true, saying: "newer esrun")
    }

    @Test func aVersionOneDatabaseIsUpgradedInPlace() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("old.db")
        // a database as the first schema left it, with an event in it
        let old = try SQLiteConnection(path: path, readOnly: false)
        try old.execute("PRAGMA page_size = 1024; PRAGMA journal_mode = WAL;")
        try old.execute(SQLiteEventStore.migrations[0])
        try old.execute(#"INSERT INTO events (aggregate, "key", version, type, schema, data, meta, recorded_at) "#
            + #"VALUES ('Counter', 'a', 1, 'Incremented', 1, '{"by":1}', '{}', 0)"#)
        try old.execute("PRAGMA application_id = \(SQLiteEventStore.applicationID); PRAGMA user_version = 1;")
        try old.close()

        let store = try SQLiteEventStore(path: path)
        defer { try? store.close() }
        #expect(try store.events(of: stream).map(\.data) == [#"{"by":1}"#])
        let created = try store.createProjectionGeneration(name: "P", fingerprint: "f", activate: true)
        #expect(created.generation == 1)
        #expect(try store.headPosition() == 1)
        let check = try SQLiteConnection(path: path, readOnly: true)
        defer { try? check.close() }
        #expect(try check.integer("PRAGMA user_version") == SQLiteEventStore.schemaVersion)
    }

    @Test func aVersionTwoDatabaseIsRewrittenCompactlyAndReadsTheSame() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("old.db")
        // a database as schema version 2 left it: one row per event with its whole metadata
        let old = try SQLiteConnection(path: path, readOnly: false)
        try old.execute("PRAGMA page_size = 1024; PRAGMA journal_mode = WAL;")
        try old.execute(SQLiteEventStore.migrations[0] + SQLiteEventStore.migrations[1])
        try old.execute("PRAGMA application_id = \(SQLiteEventStore.applicationID); PRAGMA user_version = 2;")
        var expected: [RecordedEvent] = []
        let insert = #"INSERT INTO events (aggregate, "key", version, type, schema, data, meta, recorded_at, command_id) "#
            + "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        var appends = metadataShapes().map(\.1)
        for i in 0..<300 { appends.append(EngineMetaCommand(base: EngineMetaCommand.base(UInt64(1000 + i))).events(1 + i % 3)) }
        // as the previous release wrote them: a random event id each, not derived from the command id
        for i in 0..<200 {
            let command = EngineMetaCommand(base: EngineMetaCommand.base(UInt64(5000 + i)))
            appends.append([NewEvent(type: "Deposited", data: "{}",
                                     meta: SharedMeta.eventMeta(id: EngineMetaCommand.base(UInt64(90_000 + i)), members: command.members))])
        }
        var versions: [StreamID: Int64] = [:]
        for (i, events) in appends.enumerated() {
            let stream = StreamID(aggregate: i % 2 == 0 ? "Shapes" : "Counter", key: "s\(i % 7)")
            for event in events {
                let version = versions[stream, default: 0] + 1
                versions[stream] = version
                try old.withStatement(insert) { statement in
                    try statement.bind(stream.aggregate, at: 1)
                    try statement.bind(stream.key, at: 2)
                    try statement.bind(version, at: 3)
                    try statement.bind(event.type, at: 4)
                    try statement.bind(event.schema, at: 5)
                    try statement.bind(event.data, at: 6)
                    try statement.bind(event.meta, at: 7)
                    try statement.bind(1_700_000_000_000 + Int64(i), at: 8)
                    try statement.bind(event.commandID, at: 9)
                    _ = try statement.step()
                }
                expected.append(RecordedEvent(position: old.lastInsertedRowID, stream: stream, version: version,
                                              type: event.type, schema: event.schema, data: event.data, meta: event.meta,
                                              recordedAt: 1_700_000_000_000 + Int64(i)))
            }
        }
        try old.close()

        let store = try SQLiteEventStore(path: path)
        defer { try? store.close() }
        #expect(try store.events(after: 0, limit: 10_000) == expected)
        for stream in versions.keys {
            #expect(try store.events(of: stream) == expected.filter { $0.stream == stream })
        }
        #expect(try store.streams(of: nil) == versions.keys.sorted { ($0.aggregate, $0.key) < ($1.aggregate, $1.key) })
        #expect(try store.events(forCommand: "order-7 \"quoted\" ü").count == 3)
        let check = try SQLiteConnection(path: path, readOnly: true)
        defer { try? check.close() }
        #expect(try check.integer("PRAGMA user_version") == SQLiteEventStore.schemaVersion)
        #expect(try check.integer("SELECT count(*) FROM events WHERE meta IS NULL") > 300, "followers share their head's metadata")
        #expect(try check.integer("SELECT count(*) FROM events WHERE typeof(meta) = 'integer'") > 450,
                "the commands of one name and script share a template, random event ids or not")
        // and it goes on: appends after the upgrade
        let stream = StreamID(aggregate: "Shapes", key: "s0")
        let more = EngineMetaCommand(base: EngineMetaCommand.base(5000)).events(2)
        let appended = try store.append(more, to: stream, expectedVersion: versions[stream]!)
        #expect(try store.events(of: stream).suffix(2) == appended[...])
    }

    @Test func theFileIsTaggedAndInWALMode() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.db")
        try SQLiteEventStore(path: path).close()
        let connection = try SQLiteConnection(path: path, readOnly: true)
        defer { try? connection.close() }
        #expect(try connection.integer("PRAGMA application_id") == SQLiteEventStore.applicationID)
        #expect(try connection.integer("PRAGMA user_version") == SQLiteEventStore.schemaVersion)
        #expect(try connection.withStatement("PRAGMA journal_mode") { try $0.step() ? $0.string(at: 0) : "" } == "wal")
    }

    @Test func aReadOnlyStoreReadsAndRefusesWrites() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.db")
        let writer = try SQLiteEventStore(path: path)
        try writer.append(makeEvents(3), to: stream, expectedVersion: 0)

        let reader = try SQLiteEventStore(path: path, readOnly: true)
        #expect(try reader.version(of: stream) == 3)
        let error = #expect(throws: StoreError.self) { try reader.append(makeEvents(1), to: stream, expectedVersion: 3) }
        #expect(error?.isInvalid == true)
        #expect(error?.description.contains("read-only") == true)
        try writer.append(makeEvents(1), to: stream, expectedVersion: 3)
        #expect(try reader.events(of: stream).count == 4, "a reader sees later commits of another connection")
        try reader.close()
        try writer.close()
        #expect(throws: StoreError.self) { try SQLiteEventStore(path: directory.path("missing.db"), readOnly: true) }
    }

    @Test func theUniqueIndexBacksUpTheVersionCheck() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.db")
        let store = try SQLiteEventStore(path: path)
        defer { try? store.close() }
        try store.append(makeEvents(5), to: stream, expectedVersion: 0)
        // Someone removed versions 3 and 4 by hand: the stream has a hole.
        let raw = try SQLiteConnection(path: path, readOnly: false)
        try raw.execute(#"DELETE FROM events WHERE version IN (3, 4)"#)
        try raw.close()
        // Appending after version 2 meets version 5: a conflict, nothing kept.
        #expect(throws: StoreError.conflict(stream, expected: 2, actual: 5)) {
            try store.append(makeEvents(4, start: 100), to: stream, expectedVersion: 2)
        }
        #expect(try store.events(of: stream).map(\.version) == [1, 2, 5])
        let results = try store.append(batches: [
            AppendBatch(stream: stream, expectedVersion: 2, events: makeEvents(3, start: 100)),
            AppendBatch(stream: StreamID(aggregate: "Counter", key: "b"), expectedVersion: 0, events: makeEvents(1)),
        ])
        #expect(results[0] == .failure(.conflict(stream, expected: 2, actual: 5)))
        #expect(try results[1].get().count == 1)
        #expect(try store.events(of: stream).map(\.version) == [1, 2, 5])
    }

    @Test func concurrentAppendsNeverShareAVersion() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteEventStore(path: directory.path("store.db"))
        defer { try? store.close() }
        let threads = 4, perThread = 150
        let conflicts = Locked(0)
        let failures = Locked<[String]>([])
        onThreads(threads) { thread in
            var done = 0
            while done < perThread {
                do {
                    let version = try store.version(of: stream)
                    try store.append([NewEvent(type: "Appended", data: #"{"thread":\#(thread)}"#)],
                                     to: stream, expectedVersion: version)
                    done += 1
                } catch let error as StoreError where error.isConflict {
                    conflicts.withLock { $0 += 1 }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
            }
        }
        #expect(failures.current.isEmpty)
        let events = try store.events(of: stream)
        #expect(events.map(\.version) == Array(1...Int64(threads * perThread)))
        #expect(zip(events, events.dropFirst()).allSatisfy { $0.position < $1.position })
        for thread in 0..<threads {
            #expect(events.filter { $0.data == #"{"thread":\#(thread)}"# }.count == perThread)
        }
    }

    @Test func aFeedReaderNeverSkipsWhileWritersAppend() throws {
        let directory = try TemporaryDirectory()
        let store = try SQLiteEventStore(path: directory.path("store.db"))
        defer { try? store.close() }
        let writers = 3, commitsPerWriter = 150
        let writersDone = Locked(0)
        let seen = Locked<[RecordedEvent]>([])
        let failures = Locked<[String]>([])
        onThreads(writers + 1) { worker in
            do {
                if worker == writers {
                    // The reader: tail the feed until the writers are done and it has caught up.
                    var tail: [RecordedEvent] = []
                    while true {
                        let finished = writersDone.current == writers
                        let page = try store.events(after: tail.last?.position ?? 0, limit: 37)
                        tail += page
                        if page.isEmpty && finished { break }
                    }
                    seen.withLock { $0 = tail }
                } else {
                    defer { writersDone.withLock { $0 += 1 } }
                    let own = StreamID(aggregate: "Feed", key: "w\(worker)")
                    let shared = StreamID(aggregate: "Feed", key: "shared-\(worker)")
                    for commit in 0..<commitsPerWriter {
                        let size = commit % 4 + 1
                        if commit % 3 == 0 {
                            _ = try store.append(batches: [
                                AppendBatch(stream: own, expectedVersion: try store.version(of: own), events: makeEvents(size)),
                                AppendBatch(stream: shared, expectedVersion: try store.version(of: shared), events: makeEvents(1)),
                            ]).map { try $0.get() }
                        } else {
                            try store.append(makeEvents(size), to: own, expectedVersion: try store.version(of: own))
                        }
                    }
                }
            } catch {
                failures.withLock { $0.append("\(error)") }
                writersDone.withLock { $0 = writers }
            }
        }
        #expect(failures.current.isEmpty)
        let final = try store.events(after: 0, limit: 1_000_000)
        #expect(seen.current.count == final.count)
        #expect(seen.current == final)
        #expect(zip(final, final.dropFirst()).allSatisfy { $0.position < $1.position })
    }

    @Test func twoStoresOnOneFileTakeTurns() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("store.db")
        let stores = [try SQLiteEventStore(path: path), try SQLiteEventStore(path: path)]
        defer { for store in stores { try? store.close() } }
        let failures = Locked<[String]>([])
        onThreads(2) { index in
            let store = stores[index]
            var done = 0
            while done < 100 {
                do {
                    try store.append(makeEvents(2), to: stream, expectedVersion: try store.version(of: stream))
                    done += 1
                } catch let error as StoreError where error.isConflict {
                    continue
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
            }
        }
        #expect(failures.current.isEmpty)
        #expect(try stores[0].events(of: stream).map(\.version) == Array(1...400))
        #expect(try stores[1].version(of: stream) == 400)
    }

    @Test func sqliteErrorsNameTheStatementButNoValues() throws {
        let directory = try TemporaryDirectory()
        let connection = try SQLiteConnection(path: directory.path("x.db"), readOnly: false)
        defer { try? connection.close() }
        try connection.execute("CREATE TABLE t (v TEXT UNIQUE)")
        let insert = try connection.statement("INSERT INTO t (v) VALUES (?1)")
        try insert.bind("secret-value", at: 1)
        _ = try insert.step()
        insert.reset()
        let error = #expect(throws: SQLiteError.self) { _ = try insert.step() }
        insert.reset()
        #expect(error?.isUniqueViolation == true)
        #expect(error?.sql == "INSERT INTO t (v) VALUES (?1)")
        #expect(error?.description.contains("secret-value") == false)
        #expect(error?.storeError(path: "x.db").description.contains("x.db") == true)
    }
}
