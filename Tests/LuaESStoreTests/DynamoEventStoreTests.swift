import Foundation
import Logging
import LuaESCore
@testable import LuaESDynamo
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// What the store contract does not cover on DynamoDB: the limits of one item and one
/// transaction, opening errors, concurrent writers and readers, several processes' clocks.
@Suite("DynamoEventStore", .enabled(if: DynamoTestServer.endpoint != nil, "needs ESRUN_TEST_DYNAMODB_ENDPOINT (moto); scripts/test.sh starts one"))
struct DynamoEventStoreTests {
    let a = StreamID(aggregate: "Counter", key: "a")

    /// A store on a fresh table, deleted when `body` returns.
    func withStore(shards: Int = 4, _ body: (DynamoEventStore, String) throws -> Void) throws {
        let table = DynamoTestServer.freshTable()
        defer { DynamoTestServer.drop(table: table) }
        let store = try DynamoEventStore(configuration: DynamoTestServer.configuration(table: table, shards: shards))
        defer { try? store.close() }
        try body(store, table)
    }

    @Test func aMissingTableWithoutCreateNamesTheTableAndCreateTrue() throws {
        let table = DynamoTestServer.freshTable("missing")
        let error = #expect(throws: StoreError.self) {
            try DynamoEventStore(configuration: DynamoTestServer.configuration(table: table, create: false))
        }
        #expect(error?.isInvalid == true)
        #expect(error?.message.contains(table) == true)
        #expect(error?.message.contains("create=true") == true)
    }

    @Test func anUnreachableEndpointIsAClearStoreError() throws {
        let configuration = try DynamoStoreConfiguration(table: "events", region: "us-east-1", endpoint: URL(string: "http://127.0.0.1:1"),
                                                         timeout: .seconds(2), credentials: DynamoTestServer.credentials)
        let started = Date()
        let error = #expect(throws: StoreError.self) { try DynamoEventStore(configuration: configuration) }
        #expect(error?.kind == .store)
        #expect(error?.message.contains("cannot reach DynamoDB at http://127.0.0.1:1") == true, "\(String(describing: error))")
        #expect(Date().timeIntervalSince(started) < 20)
    }

    /// AsyncHTTPClient traps when a running client is released: the store shuts it down itself.
    @Test func aStoreDroppedWithoutCloseDoesNotCrash() throws {
        let table = DynamoTestServer.freshTable("dropped")
        defer { DynamoTestServer.drop(table: table) }
        var store: DynamoEventStore? = try DynamoEventStore(configuration: DynamoTestServer.configuration(table: table))
        #expect(try store?.append(makeEvents(1), to: a, expectedVersion: 0).count == 1)
        store = nil
        let again = try DynamoEventStore(configuration: DynamoTestServer.configuration(table: table))
        defer { try? again.close() }
        #expect(try again.version(of: a) == 1)
    }

    @Test func aForeignTableIsRefused() throws {
        let table = DynamoTestServer.freshTable("foreign")
        defer { DynamoTestServer.drop(table: table) }
        let client = DynamoClient(configuration: try DynamoTestServer.configuration(table: table), logger: Logger(label: "test"))
        defer { client.close() }
        _ = try client.call("CreateTable", [
            "TableName": table, "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [["AttributeName": "id", "AttributeType": "S"]],
            "KeySchema": [["AttributeName": "id", "KeyType": "HASH"]],
        ])
        let error = #expect(throws: StoreError.self) { try DynamoEventStore(configuration: DynamoTestServer.configuration(table: table)) }
        #expect(error?.message.contains("not an esrun table") == true)
    }

    @Test func appendsBeyondTheLimitsAreInvalidAndWriteNothing() throws {
        try withStore { store, _ in
            try store.append(makeEvents(1), to: a, expectedVersion: 0)
            let tooMany = #expect(throws: StoreError.self) { try store.append(makeEvents(1025), to: a, expectedVersion: 1) }
            #expect(tooMany?.isInvalid == true)
            #expect(tooMany?.message.contains("1024") == true)
            let big = NewEvent(type: "Blob", data: #"{"x":""# + String(repeating: "y", count: 210_000) + #""}"#)
            let tooLarge = #expect(throws: StoreError.self) { try store.append([big, big], to: a, expectedVersion: 1) }
            #expect(tooLarge?.isInvalid == true)
            #expect(tooLarge?.message.contains("400 KB") == true)
            let commands = (0..<91).map { NewEvent(type: "T", data: "{}", commandID: "cmd-\($0)") }
            let tooManyKeys = #expect(throws: StoreError.self) { try store.append(commands, to: a, expectedVersion: 1) }
            #expect(tooManyKeys?.isInvalid == true)
            // in a group commit only the batch over the limit fails
            let results = try store.append(batches: [AppendBatch(stream: a, expectedVersion: 1, events: makeEvents(1025)),
                                                     AppendBatch(stream: a, expectedVersion: 1, events: makeEvents(1, start: 2))])
            if case .failure(let error) = results[0] { #expect(error.isInvalid) } else { Issue.record("1025 events accepted") }
            #expect(try results[1].get().map(\.version) == [2])
            #expect(try store.events(of: a).map(\.data) == makeEvents(2).map(\.data))
            #expect(try store.events(after: 0, limit: 5000).count == 2)
            // the limits themselves are accepted
            let most = try store.append(makeEvents(1024), to: a, expectedVersion: 2)
            #expect(most.last?.version == 1026)
            #expect(try store.events(of: a, after: 1000).count == 26)
        }
    }

    @Test func idempotencyKeysFindTheirEventsAcrossCommits() throws {
        try withStore { store, _ in
            let first = try store.append([NewEvent(type: "A", data: "{}", commandID: "k1"), NewEvent(type: "B", data: "{}", commandID: "k2"),
                                          NewEvent(type: "C", data: "{}", commandID: "k1")], to: a, expectedVersion: 0)
            #expect(try store.events(forCommand: "k1") == [first[0], first[2]])
            #expect(try store.events(forCommand: "k2") == [first[1]])
            #expect(try store.events(forCommand: "none").isEmpty)
            #expect(try store.events(forCommand: String(repeating: "z", count: 5000)).isEmpty)
        }
    }

    @Test func concurrentAppendsOnOneStreamLoseAndDuplicateNothing() throws {
        try withStore { store, _ in
            let threads = 6, perThread = 12
            let conflicts = Locked(0)
            onThreads(threads) { thread in
                for i in 0..<perThread {
                    while true {
                        do {
                            let version = try store.version(of: a)
                            try store.append([NewEvent(type: "N", data: #"{"t":\#(thread),"i":\#(i)}"#)], to: a, expectedVersion: version)
                            break
                        } catch let error as StoreError where error.isConflict {
                            conflicts.withLock { $0 += 1 }
                        } catch {
                            Issue.record(error)
                            return
                        }
                    }
                }
            }
            let events = try store.events(of: a)
            #expect(events.map(\.version) == (1...Int64(threads * perThread)).map { $0 })
            #expect(Set(events.map(\.data)).count == threads * perThread)
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.position < $1.position })
            #expect(try store.events(after: 0, limit: 1000) == events)
            print("DynamoDB: \(threads) threads appended \(threads * perThread) events to one stream, \(conflicts.current) conflicts")
        }
    }

    /// Readers page the feed while writers append to many streams: what they read, page after
    /// page, is exactly the final feed, in order, with nothing skipped or repeated.
    @Test func theFeedNeverSkipsUnderConcurrentWriters() throws {
        try withStore { store, _ in
            let writers = 4, appends = 25
            let done = Locked(false)
            let seen = Locked<[RecordedEvent]>([])
            let readerDone = DispatchSemaphore(value: 0)
            let reader = Thread {
                var position: Int64 = 0
                var pages: [RecordedEvent] = []
                while true {
                    let finished = done.current
                    guard let page = try? store.events(after: position, limit: 7) else { Issue.record("feed read failed"); break }
                    pages += page
                    position = page.last?.position ?? position
                    if page.isEmpty, finished { break }
                }
                seen.withLock { $0 = pages }
                readerDone.signal()
            }
            reader.start()
            onThreads(writers) { writer in
                for i in 0..<appends {
                    let stream = StreamID(aggregate: "W", key: "\(writer)-\(i % 5)")
                    do { _ = try store.append(makeEvents(1 + i % 3), to: stream, expectedVersion: try store.version(of: stream)) } catch {
                        Issue.record(error)
                    }
                }
            }
            done.withLock { $0 = true }
            readerDone.wait()
            let feed = try store.events(after: 0, limit: 10_000)
            #expect(feed.count == writers * (0..<appends).reduce(0) { $0 + 1 + $1 % 3 })
            let read = seen.current
            let skipped = Set(feed.map(\.position)).subtracting(read.map(\.position))
            #expect(skipped.isEmpty, "the reader skipped \(skipped.count) events: \(feed.filter { skipped.contains($0.position) }.prefix(3))")
            #expect(read.count == feed.count && read == feed, "\(read.count) events read, \(feed.count) in the feed")
            #expect(zip(feed, feed.dropFirst()).allSatisfy { $0.position < $1.position })
        }
    }

    /// A second process whose clock runs 2 s ahead commits at later ticks and seals the feed
    /// past the first one's clock: the first one's next append still succeeds (above the
    /// fence), the first one reads everything at once, the second one sees the first one's
    /// late append once its own clock has passed it, nothing skipped.
    @Test func twoStoresWithClocksApartShareTheFeed() throws {
        try withStore(shards: 2) { store, table in
            let ahead = try DynamoEventStore(configuration: DynamoTestServer.configuration(table: table))
            defer { try? ahead.close() }
            ahead.clock.observe(PositionClock.wallTick() + 2 * PositionClock.perSecond)
            let early = try store.append(makeEvents(1), to: a, expectedVersion: 0)
            let theirs = try ahead.append(makeEvents(1), to: StreamID(aggregate: "B", key: "b"), expectedVersion: 0)
            #expect(theirs[0].position > early[0].position)
            #expect(try ahead.events(after: 0, limit: 10) == early + theirs)  // seals every shard 2 s ahead
            let late = try store.append(makeEvents(2, start: 2), to: a, expectedVersion: 1)
            #expect(late[0].position > theirs[0].position)
            #expect(try store.events(after: 0, limit: 10) == early + theirs + late)
            let deadline = Date().addingTimeInterval(6)
            var seen: [RecordedEvent] = []
            while seen.count < 2, Date() < deadline {
                seen += try ahead.events(after: seen.last?.position ?? theirs[0].position, limit: 10)
                Thread.sleep(forTimeInterval: 0.05)
            }
            #expect(seen == late)
        }
    }

    @Test func snapshotsInATableOfTheirOwnKeepTheFingerprintRule() throws {
        let table = DynamoTestServer.freshTable("snap")
        defer { DynamoTestServer.drop(table: table) }
        let url = "dynamodb://\(table)?region=us-east-1&endpoint=\(DynamoTestServer.endpoint!)&create=true"
        setenv("AWS_ACCESS_KEY_ID", "testing", 0)
        setenv("AWS_SECRET_ACCESS_KEY", "testing", 0)
        let snapshots = try DynamoSnapshotStore(url: url)
        defer { try? snapshots.close() }
        let newer = Snapshot(stream: a, version: 10, state: #"{"n":10}"#, fingerprint: "f1")
        try snapshots.saveSnapshot(newer)
        try snapshots.saveSnapshot(Snapshot(stream: a, version: 5, state: #"{"n":5}"#, fingerprint: "f1"))
        #expect(try snapshots.snapshot(of: a) == newer)
        let otherCode = Snapshot(stream: a, version: 3, state: #"{"n":3}"#, fingerprint: "f2")
        try snapshots.saveSnapshot(otherCode)
        #expect(try snapshots.snapshot(of: a) == otherCode)
        #expect(try snapshots.snapshot(of: StreamID(aggregate: "Counter", key: "none")) == nil)
        try snapshots.close()
        #expect(throws: StoreError.closed) { try snapshots.snapshot(of: a) }
    }
}
