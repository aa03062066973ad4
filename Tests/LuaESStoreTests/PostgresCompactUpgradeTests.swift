import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESPostgres
@testable import LuaESStore
import PostgresNIO
import Testing

/// Schema version 4 (an event's metadata whole on every row) upgraded in place to 5 (compact
/// events): every read path gives back the rows as they were, byte for byte.
@Suite("PostgreSQL compact events upgrade")
struct PostgresCompactUpgradeTests {
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func aVersionFourSchemaIsRewrittenAndReadsBackByteForByte() throws {
        let schema = PostgresTestServer.freshSchema("compact")
        defer { PostgresTestServer.drop(schema: schema) }
        let quoted = "\"\(schema)\""
        try PostgresTestServer.execute("CREATE SCHEMA \(quoted)")
        try PostgresTestServer.execute("CREATE TABLE \(quoted).schema_version (version integer NOT NULL)")
        try PostgresTestServer.execute("INSERT INTO \(quoted).schema_version (version) VALUES (4)")
        for statement in PostgresEventStore.migrations(in: quoted)[0..<4].joined() { try PostgresTestServer.execute(statement) }

        var writer = VersionFourWriter(schema: quoted)
        let connection = try PostgresTestServer.connect()
        defer { PostgresTestServer.close(connection) }
        for (i, (_, events)) in metadataShapes().enumerated() {
            try writer.insert(events, to: StreamID(aggregate: "Shapes", key: "s\(i)"), on: connection)
        }
        for i in 0..<300 {
            var command = EngineMetaCommand(base: EngineMetaCommand.base(UInt64(1000 + i)))
            if i % 5 == 0 { command.key = "key-\(i)" }
            if i % 7 == 0 { command.requestID = String(format: "%032x", i) }
            if i % 11 == 0 { command.extra = #""user":"u\#(i % 3)""# }
            let stream = StreamID(aggregate: "Account", key: "a\(i % 17)")
            // every 13th command shares its millisecond with the one before, as a busy node's would
            try writer.insert(command.events(1 + i % 3), to: stream, sameTimeAsLast: i % 13 == 0, on: connection)
            if i == 150 { try writer.skipPosition(on: connection) }  // a rolled-back append's position
        }

        let store = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer { try? store.close() }  // closing only stops the pool
        #expect(try PostgresTestServer.integer("SELECT max(version) FROM \(quoted).schema_version") == 5)
        let expected = writer.recorded
        #expect(try store.events(after: 0, limit: 100_000) == expected)
        for stream in Set(expected.map(\.stream)) {
            let history = expected.filter { $0.stream == stream }
            #expect(try store.events(of: stream) == history, "\(stream)")
            #expect(try store.events(of: stream, after: 1, upTo: nil, limit: nil) == Array(history.dropFirst()), "\(stream)")
        }
        for (position, page) in [(0, 7), (3, 5), (expected[40].position, 9)] {
            #expect(try store.events(after: position, limit: page) == Array(expected.filter { $0.position > position }.prefix(page)))
        }
        for (key, events) in writer.keyed {
            #expect(try store.events(forCommand: key) == events, "\(key)")
        }
        #expect(try PostgresTestServer.integer("""
            SELECT count(*) FROM \(quoted).events WHERE ordinal > 0 AND (head_meta IS NOT NULL OR recorded_at IS NOT NULL
                OR template IS NOT NULL OR command_id IS NOT NULL)
            """) == 0, "followers carry no metadata")
        #expect(try PostgresTestServer.integer("SELECT count(*) FROM \(quoted).events WHERE template IS NOT NULL") ?? 0 > 200,
                "templates met twice go by id")

        let stream = StreamID(aggregate: "Account", key: "a0")
        let version = try store.version(of: stream)
        let next = EngineMetaCommand(base: EngineMetaCommand.base(9999)).events(2)
        let appended = try store.append(next, to: stream, expectedVersion: version)
        #expect(appended.first!.position > expected.last!.position)
        #expect(try store.events(of: stream, after: version, upTo: nil, limit: nil) == appended)
        let taken = EngineMetaCommand(base: EngineMetaCommand.base(9998), key: "key-5").events(1)
        let error = #expect(throws: StoreError.self) { try store.append(taken, to: stream, expectedVersion: version + 2) }
        #expect(error?.duplicateCommandID == "key-5", "\(String(describing: error))")
    }
}

extension PostgresCompactUpgradeTests {
    /// A template goes inline the first two times a node meets it, by the id of its `templates`
    /// row after that; two stores on one schema agree on the id; every event reads back exactly.
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func aTemplateMetTwiceGoesByIdAndReadsBackTheSame() throws {
        let schema = PostgresTestServer.freshSchema("templates")
        defer { PostgresTestServer.drop(schema: schema) }
        let quoted = "\"\(schema)\""
        let (first, second) = try (PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema)),
                                   PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema)))
        defer { try? first.close(); try? second.close() }
        var written: [RecordedEvent] = []
        for i in 0..<8 {
            let store = i < 4 ? first : second
            let stream = StreamID(aggregate: "Account", key: "a\(i % 2)")
            let events = EngineMetaCommand(base: EngineMetaCommand.base(UInt64(i))).events(1 + i % 3)
            written += try store.append(events, to: stream, expectedVersion: store.version(of: stream))
        }
        // bit n - 1 set: the n-th command's head names its template by id
        let byID = try PostgresTestServer.integer("""
            SELECT bit_or(1::int8 << (h.n - 1)::int) FROM (
                SELECT template, row_number() OVER (ORDER BY position) AS n FROM \(quoted).events WHERE ordinal = 0) AS h
            WHERE h.template IS NOT NULL
            """)
        #expect(byID == 0b1100_1100)
        #expect(try PostgresTestServer.integer("SELECT count(DISTINCT template) FROM \(quoted).events") == 1)
        #expect(try PostgresTestServer.integer("SELECT count(*) FROM \(quoted).templates") == 1)
        #expect(try first.events(after: 0, limit: 1000) == written)
        #expect(try second.events(after: 0, limit: 1000) == written)
    }
}

/// Inserts rows into a version-4 `events` table as the append procedure of that version did:
/// one append's events at consecutive positions with one `recorded_at`, their command ids in
/// `commands`. Remembers what it wrote.
struct VersionFourWriter {
    let schema: String
    var recorded: [RecordedEvent] = []
    var keyed: [String: [RecordedEvent]] = [:]
    private var versions: [StreamID: Int64] = [:]
    private var nextPosition: Int64 = 1
    private var time: Int64 = 1_700_000_000_000

    init(schema: String) {
        self.schema = schema
    }

    mutating func insert(_ events: [NewEvent], to stream: StreamID, sameTimeAsLast: Bool = false,
                         on connection: PostgresConnection) throws {
        if !sameTimeAsLast { time += 1 }
        let first = versions[stream, default: 0] + 1
        let query: PostgresQuery = """
            INSERT INTO \(unescaped: schema).events (aggregate, "key", version, type, schema, data, meta, recorded_at, command_id)
            SELECT \(stream.aggregate), \(stream.key), \(first) + u.n - 1, u.type, u.schema, u.data, u.meta, \(time),
                   nullif(u.command_id, '')
            FROM unnest(\(events.map(\.type))::text[], \(events.map { Int64($0.schema) })::int8[],
                        \(events.map { ByteBuffer(string: $0.data) })::bytea[], \(events.map { ByteBuffer(string: $0.meta) })::bytea[],
                        \(events.map { $0.commandID ?? "" })::text[]) WITH ORDINALITY AS u(type, schema, data, meta, command_id, n)
            ORDER BY u.n
            """
        try run(query, on: connection)
        var appended: [RecordedEvent] = []
        for (i, event) in events.enumerated() {
            appended.append(RecordedEvent(position: nextPosition + Int64(i), stream: stream, version: first + Int64(i),
                                          type: event.type, schema: event.schema, data: event.data, meta: event.meta,
                                          recordedAt: time))
        }
        if let key = events.first?.commandID {
            keyed[key] = appended
            try run("INSERT INTO \(unescaped: schema).commands (command_id, position) VALUES (\(key), \(nextPosition))",
                    on: connection)
        }
        recorded += appended
        nextPosition += Int64(events.count)
        versions[stream] = first + Int64(events.count) - 1
    }

    mutating func skipPosition(on connection: PostgresConnection) throws {
        try run("SELECT nextval(pg_get_serial_sequence(\("\(schema).events"), 'position'))", on: connection)
        nextPosition += 1
    }

    private func run(_ query: PostgresQuery, on connection: PostgresConnection) throws {
        let logger = Logger(label: "test")
        try PostgresEventStore.blocking { () -> Void in
            try await connection.query(query, logger: logger)
        }
    }
}
