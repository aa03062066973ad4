import Foundation
import Logging
import LuaESCore
import LuaESTestSupport
@testable import LuaESPostgres
@testable import LuaESStore
import PostgresNIO
import Testing

/// The gap test: appends commit out of position order (each waits a random time between
/// taking its positions and COMMIT) while a reader tails the feed. The reader must see
/// exactly the final table in position order: nothing skipped, nothing twice.
@Suite("PostgreSQL feed under concurrent writers")
struct PostgresFeedGapTests {
    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs ESRUN_TEST_POSTGRES_URL (a PostgreSQL server)"))
    func aTailingReaderSkipsNothing() throws {
        let schema = PostgresTestServer.freshSchema("gap")
        defer { PostgresTestServer.drop(schema: schema) }
        let store = try PostgresEventStore(configuration: PostgresTestServer.configuration(schema: schema))
        defer { try? store.close() }  // closing only stops the pool
        store.hooks.pauseBeforeCommit = { .microseconds(Int64.random(in: 0...8_000)) }

        let writers = 8, appendsPerWriter = 30
        let finished = Locked(0)
        let acknowledged = Locked<[RecordedEvent]>([])
        let seen = Locked<[RecordedEvent]>([])
        let naiveSeen = Locked<Set<Int64>>([])
        let shared = StreamID(aggregate: "Counter", key: "shared")
        let failures = Locked<[String]>([])  // recorded by the threads, checked at the end

        let group = DispatchGroup()
        group.enter()
        Thread {  // the tailing reader
            defer { group.leave() }
            var last: Int64 = 0
            var drained = false
            while !drained {
                let done = finished.current == writers
                do {
                    let page = try store.events(after: last, limit: 25)
                    if let first = page.first, first.position <= last { failures.withLock { $0.append("the feed went back: \(first.position) after \(last)") } }
                    if !zip(page, page.dropFirst()).allSatisfy({ $0.position < $1.position }) { failures.withLock { $0.append("a page out of order") } }
                    seen.withLock { $0 += page }
                    last = page.last?.position ?? last
                    drained = done && page.isEmpty
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
            }
        }.start()
        group.enter()
        Thread {  // a reader without the fence, to show what it would miss
            defer { group.leave() }
            do { try Self.tailWithoutFence(schema: schema, until: { finished.current == writers }, into: naiveSeen) } catch {
                failures.withLock { $0.append("\(error)") }
            }
        }.start()

        onThreads(writers) { writer in
            defer { finished.withLock { $0 += 1 } }
            let own = StreamID(aggregate: "Counter", key: "w\(writer)")
            var ownVersion: Int64 = 0
            for round in 0..<appendsPerWriter {
                do {
                    if round % 5 == 4 {  // a group commit over two streams, one of them contended
                        let sharedVersion = try store.version(of: shared)
                        let results = try store.append(batches: [
                            AppendBatch(stream: own, expectedVersion: ownVersion, events: makeEvents(2, start: round)),
                            AppendBatch(stream: shared, expectedVersion: sharedVersion, events: makeEvents(1, start: round)),
                        ])
                        for result in results {
                            if case .success(let recorded) = result { acknowledged.withLock { $0 += recorded } }
                        }
                        ownVersion = try results[0].get().last!.version
                    } else {
                        let recorded = try store.append(makeEvents(1 + round % 3, start: round), to: own, expectedVersion: ownVersion)
                        ownVersion = recorded.last!.version
                        acknowledged.withLock { $0 += recorded }
                    }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                    return
                }
            }
        }
        group.wait()

        #expect(failures.current.isEmpty)
        let table = try store.events(after: 0, limit: 100_000)
        let read = seen.current
        #expect(read.count == table.count)
        #expect(read == table, "the tailing reader's sequence is the table in position order")
        #expect(Set(acknowledged.current.map(\.position)) == Set(table.map(\.position)), "every acknowledged event is there, and nothing else")
        let skippedWithoutFence = Set(table.map(\.position)).subtracting(naiveSeen.current).count
        print("gap test: \(table.count) events from \(writers) writers; the fenced reader saw all of them in order; "
            + "a reader without the fence skipped \(skippedWithoutFence)")
    }

    /// Tails `position > last` with no xid fence (what a plain sequence-ordered reader
    /// does), recording every position it sees.
    static func tailWithoutFence(schema: String, until done: @escaping @Sendable () -> Bool,
                                 into seen: Locked<Set<Int64>>) throws {
        let configuration = try PostgresTestServer.configuration(schema: schema)
        let direct = PostgresConnection.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: .disable)
        let logger = Logger(label: "test")
        try PostgresEventStore.blocking {
            let connection = try await PostgresConnection.connect(configuration: direct, id: 2, logger: logger)
            var last: Int64 = 0
            var finishing = false
            while true {
                let query = PostgresQuery(unsafeSQL: "SELECT position FROM \"\(schema)\".events WHERE position > \(last) ORDER BY position LIMIT 25")
                var page: [Int64] = []
                for try await position in try await connection.query(query, logger: logger).decode(Int64.self) {
                    page.append(position)
                }
                seen.withLock { $0.formUnion(page) }
                last = page.last ?? last
                if finishing && page.isEmpty { break }
                finishing = done()
            }
            try await connection.close()
        }
    }
}
