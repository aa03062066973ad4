import Foundation
import LuaESCore
@testable import LuaESMongo
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// What the store contracts (run on MongoDB through `StoreFactory.mongo`) do not cover: the
/// document limit, an unreachable server, gaps in the feed, claims of several command ids,
/// concurrent writers and readers.
@Suite("MongoEventStore", .enabled(if: MongoTestServer.url != nil, "needs ESRUN_TEST_MONGODB_URL; scripts/test.sh starts nx-27017"))
struct MongoEventStoreTests {
    let a = StreamID(aggregate: "Counter", key: "a")

    /// A store on a fresh database, dropped when `body` returns.
    func withStore(gapWait: TimeInterval = 0.1, _ body: (MongoEventStore, String) throws -> Void) throws {
        let database = MongoTestServer.freshDatabase()
        defer { MongoTestServer.drop(database: database) }
        let store = try MongoEventStore(configuration: MongoTestServer.configuration(database: database), gapWait: gapWait)
        defer { try? store.close() }
        try body(store, database)
    }

    @Test func anAppendOverSixteenMiBIsInvalidAndWritesNothing() throws {
        try withStore { store, _ in
            try store.append(makeEvents(1), to: a, expectedVersion: 0)
            let big = NewEvent(type: "Blob", data: #"{"x":""# + String(repeating: "y", count: 9 * 1024 * 1024) + #""}"#)
            let error = #expect(throws: StoreError.self) { try store.append([big, big], to: a, expectedVersion: 1) }
            #expect(error?.isInvalid == true)
            #expect(error?.message.contains("16 MiB") == true, "\(String(describing: error))")
            let results = try store.append(batches: [AppendBatch(stream: a, expectedVersion: 1, events: [big, big]),
                                                     AppendBatch(stream: a, expectedVersion: 1, events: [big])])
            if case .failure(let e) = results[0] { #expect(e.isInvalid) } else { Issue.record("18 MiB accepted") }
            #expect(try results[1].get().map(\.version) == [2])
            #expect(try store.version(of: a) == 2)
            #expect(try store.events(after: 0, limit: 10).map(\.version) == [1, 2])
        }
    }

    @Test func anUnreachableServerIsUnavailable() throws {
        let url = "mongodb://127.0.0.1:1/esrun?serverSelectionTimeoutMS=500"
        let started = Date()
        let error = #expect(throws: StoreError.self) { try MongoEventStore(url: url) }
        #expect(error?.kind == .unavailable, "\(String(describing: error))")
        #expect(error?.message.contains("cannot reach MongoDB at mongodb://127.0.0.1:1/esrun") == true, "\(String(describing: error))")
        #expect(Date().timeIntervalSince(started) < 10)
        let snapshots = try MongoSnapshotStore(configuration: MongoStoreConfiguration(url: url))
        defer { try? snapshots.close() }
        let read = #expect(throws: StoreError.self) { try snapshots.snapshot(of: a) }
        #expect(read?.kind == .unavailable)
    }

    @Test func urlsAreCheckedAndShownWithoutPassword() throws {
        let configuration = try MongoStoreConfiguration(url: "mongodb://esrun:s3cr%2Ft@db.example:27017/events?tls=true&tlsCertificateKeyFilePassword=x")
        #expect(configuration.database == "events")
        #expect(configuration.displayName == "mongodb://esrun@db.example:27017/events")
        #expect(throws: InputError.self) { try MongoStoreConfiguration(url: "mongodb://localhost:27017") }
        #expect(throws: InputError.self) { try MongoStoreConfiguration(url: "mongodb://localhost:notaport/x") }
        #expect(throws: InputError.self) { try MongoStoreConfiguration(url: "postgres://localhost/x") }
    }

    /// A writer took a sequence number and died before its insert: the reader stops before the
    /// gap, waits, fills it and goes on; the late writer's insert then fails on the position.
    @Test func aGapLeftByADeadWriterIsFilledAndTheFeedGoesOn() throws {
        try withStore { store, _ in
            let first = try store.append(makeEvents(2), to: a, expectedVersion: 0)
            let dead = try store.takeSequence()
            let later = try store.append(makeEvents(1, start: 3), to: StreamID(aggregate: "Counter", key: "b"), expectedVersion: 0)
            #expect(try store.events(after: 0, limit: 10) == first, "the reader stops before the gap")
            let started = Date()
            #expect(try store.events(after: first.last!.position, limit: 10) == later)
            #expect(Date().timeIntervalSince(started) >= 0.09, "it waited for the writer before filling")
            #expect(try store.events(after: 0, limit: 10) == first + later)
            let late = MongoLayout.commit(id: nil, stream: StreamID(aggregate: "Counter", key: "late"), expectedVersion: 0,
                                          sequence: dead, recordedAt: 0, events: PackedEvent.pack(makeEvents(1)).map(MongoLayout.event))
            #expect(try store.connection.insert(late, into: MongoLayout.commits) == .duplicateKey)
            #expect(try store.events(after: 0, limit: 10) == first + later)
            let next = try store.append(makeEvents(1, start: 4), to: a, expectedVersion: 2)
            #expect(try store.events(after: 0, limit: 10) == first + later + next)
        }
    }

    @Test func severalCommandIDsInOneAppendEachCommitOnce() throws {
        try withStore { store, _ in
            let first = try store.append([NewEvent(type: "A", data: "{}", commandID: "k1"), NewEvent(type: "B", data: "{}", commandID: "k2"),
                                          NewEvent(type: "C", data: "{}", commandID: "k1")], to: a, expectedVersion: 0)
            #expect(try store.events(forCommand: "k1") == [first[0], first[2]])
            #expect(try store.events(forCommand: "k2") == [first[1]])
            let b = StreamID(aggregate: "Counter", key: "b")
            for taken in ["k1", "k2"] {
                let error = #expect(throws: StoreError.self) {
                    try store.append([NewEvent(type: "D", data: "{}", commandID: "k9"), NewEvent(type: "E", data: "{}", commandID: taken)],
                                     to: b, expectedVersion: 0)
                }
                #expect(error?.duplicateCommandID == taken)
            }
            #expect(try store.version(of: b) == 0)
            #expect(try store.events(forCommand: "k9").isEmpty, "the refused append's claim does not count")
            #expect(try store.append([NewEvent(type: "F", data: "{}", commandID: "k9")], to: b, expectedVersion: 0).count == 1)
        }
    }

    /// A writer claimed a command id for its sequence number and died: the next writer with
    /// that id waits, fills the number, deletes the dead claim and commits.
    @Test func aDeadClaimIsTakenOver() throws {
        try withStore { store, _ in
            let sequence = try store.takeSequence()
            #expect(try store.connection.insert(MongoLayout.claim(id: "k", sequence: sequence, index: 1), into: MongoLayout.commits) == .done)
            let recorded = try store.append([NewEvent(type: "A", data: "{}", commandID: "other"), NewEvent(type: "B", data: "{}", commandID: "k")],
                                            to: a, expectedVersion: 0)
            #expect(try store.events(forCommand: "k") == [recorded[1]])
            #expect(try store.events(after: 0, limit: 10) == recorded)
        }
    }

    @Test func writersRacingWithOverlappingCommandIDsCommitEachOnce() throws {
        try withStore { store, _ in
            let writers = 4, rounds = 8
            let committed = Locked<[String: Int]>([:])
            let unexpected = Locked<[String]>([])
            onThreads(writers) { writer in
                for round in 0..<rounds {
                    // each writer's batch has its own id and the round's shared id, in either order
                    let ids = ["own-\(writer)-\(round)", "shared-\(round)"]
                    let events = (writer % 2 == 0 ? ids : ids.reversed()).map { NewEvent(type: "T", data: "{}", commandID: $0) }
                    let stream = StreamID(aggregate: "W", key: "\(writer)-\(round)")
                    do {
                        try store.append(events, to: stream, expectedVersion: 0)
                        committed.withLock { for id in ids { $0[id, default: 0] += 1 } }
                    } catch let error as StoreError where error.duplicateCommandID == "shared-\(round)" {
                        continue
                    } catch {
                        unexpected.withLock { $0.append("\(error)") }
                    }
                }
            }
            #expect(unexpected.current.isEmpty, "\(unexpected.current)")
            for round in 0..<rounds {
                let stored = try store.events(forCommand: "shared-\(round)")
                #expect(committed.current["shared-\(round)"] == 1 && stored.count == 1, "round \(round)")
            }
        }
    }

    @Test func concurrentAppendsOnOneStreamLoseAndDuplicateNothing() throws {
        try withStore { store, _ in
            let threads = 6, perThread = 15
            let conflicts = Locked(0)
            let started = Date()
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
            let seconds = Date().timeIntervalSince(started)
            let events = try store.events(of: a)
            #expect(events.map(\.version) == (1...Int64(threads * perThread)).map { $0 })
            #expect(Set(events.map(\.data)).count == threads * perThread)
            #expect(zip(events, events.dropFirst()).allSatisfy { $0.position < $1.position })
            #expect(try store.events(after: 0, limit: 1000) == events)
            print("MongoDB: \(threads) threads appended \(threads * perThread) events to one stream in "
                + "\(String(format: "%.2f", seconds)) s, \(conflicts.current) conflicts")
        }
    }

    /// A reader follows the feed while writers append to many streams: what it reads, page
    /// after page, is exactly the final feed, in order, each event once.
    @Test func theFeedNeverSkipsUnderConcurrentWriters() throws {
        try withStore { store, _ in
            let writers = 4, appends = 30
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
            let started = Date()
            onThreads(writers) { writer in
                for i in 0..<appends {
                    let stream = StreamID(aggregate: "W", key: "\(writer)-\(i % 5)")
                    do { _ = try store.append(makeEvents(1 + i % 3), to: stream, expectedVersion: try store.version(of: stream)) } catch {
                        Issue.record(error)
                    }
                }
            }
            let seconds = Date().timeIntervalSince(started)
            done.withLock { $0 = true }
            readerDone.wait()
            let feed = try store.events(after: 0, limit: 10_000)
            #expect(feed.count == writers * (0..<appends).reduce(0) { $0 + 1 + $1 % 3 })
            let read = seen.current
            let skipped = Set(feed.map(\.position)).subtracting(read.map(\.position))
            #expect(skipped.isEmpty, "the reader skipped \(skipped.count) events")
            #expect(read.count == feed.count && read == feed, "\(read.count) events read, \(feed.count) in the feed")
            #expect(zip(feed, feed.dropFirst()).allSatisfy { $0.position < $1.position })
            print("MongoDB: \(writers) writers, \(writers * appends) appends in \(String(format: "%.2f", seconds)) s "
                + "(\(Int(Double(writers * appends) / seconds)) appends/s) with a reader following the feed")
        }
    }
}
