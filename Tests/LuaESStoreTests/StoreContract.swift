import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// The contract every `EventStore` keeps (ARCHITECTURE.md, "Storage guarantees"), written once and run against each
/// kind in `StoreFactory.all`, on fresh storage per test.
@Suite("Store contract")
struct StoreContract {
    let a = StreamID(aggregate: "Counter", key: "a")
    let b = StreamID(aggregate: "Counter", key: "b")
    let c = StreamID(aggregate: "Account", key: "c")

    @Test(arguments: StoreFactory.all)
    func appendsAndReadsBack(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let events = [NewEvent(type: "Opened", schema: 2, data: #"{"by":1}"#, meta: #"{"user":"u"}"#)]
            + makeEvents(2)
        let recorded = try store.append(events, to: a, expectedVersion: 0)
        let after = Int64(Date().timeIntervalSince1970 * 1000)

        #expect(recorded.map(\.version) == [1, 2, 3])
        #expect(recorded.map(\.stream) == [a, a, a])
        #expect(recorded.map(\.type) == events.map(\.type))
        #expect(recorded.map(\.schema) == events.map(\.schema))
        #expect(recorded.map(\.data) == events.map(\.data))
        #expect(recorded.map(\.meta) == events.map(\.meta))
        #expect(zip(recorded, recorded.dropFirst()).allSatisfy { $0.position < $1.position })
        #expect(recorded.allSatisfy { $0.recordedAt >= before - 1 && $0.recordedAt <= after + 1 })
        #expect(try store.events(of: a) == recorded)
        #expect(try store.events(after: 0, limit: 10) == recorded)
    }

    @Test(arguments: StoreFactory.all)
    func versionsCountFromOne(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        #expect(try store.version(of: a) == 0)
        try store.append(makeEvents(2), to: a, expectedVersion: 0)
        let more = try store.append(makeEvents(3, start: 3), to: a, expectedVersion: 2)
        #expect(more.map(\.version) == [3, 4, 5])
        #expect(try store.version(of: a) == 5)
        #expect(try store.events(of: a).map(\.version) == [1, 2, 3, 4, 5])
        #expect(try store.events(of: a).map(\.data) == makeEvents(5).map(\.data))
        #expect(try store.version(of: b) == 0)
    }

    @Test(arguments: StoreFactory.all)
    func aTakenVersionIsAConflictAndWritesNothing(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        try store.append(makeEvents(2), to: a, expectedVersion: 0)
        let feed = try store.events(after: 0, limit: 100)

        #expect(throws: StoreError.conflict(a, expected: 1, actual: 2)) {
            try store.append(makeEvents(1), to: a, expectedVersion: 1)
        }
        #expect(throws: StoreError.conflict(a, expected: 0, actual: 2)) {
            try store.append(makeEvents(1), to: a, expectedVersion: 0)
        }
        #expect(throws: StoreError.conflict(a, expected: 5, actual: 2)) {
            try store.append(makeEvents(1), to: a, expectedVersion: 5)
        }
        #expect(throws: StoreError.conflict(b, expected: 1, actual: 0)) {
            try store.append(makeEvents(1), to: b, expectedVersion: 1)
        }
        let error = #expect(throws: StoreError.self) { try store.append(makeEvents(1), to: a, expectedVersion: 1) }
        #expect(error?.conflict?.stream == a)
        #expect(error?.conflict?.expected == 1)
        #expect(error?.conflict?.actual == 2)
        #expect(try store.version(of: a) == 2)
        #expect(try store.version(of: b) == 0)
        #expect(try store.events(after: 0, limit: 100) == feed)
    }

    @Test(arguments: StoreFactory.all)
    func anAppendIsAllOrNone(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        try store.append(makeEvents(5), to: a, expectedVersion: 0)
        // Versions 4 and 5 are taken, 6...13 are free: not one of the ten may land.
        #expect(throws: StoreError.conflict(a, expected: 3, actual: 5)) {
            try store.append(makeEvents(10, start: 100), to: a, expectedVersion: 3)
        }
        #expect(try store.events(of: a).map(\.data) == makeEvents(5).map(\.data))
        #expect(try store.events(after: 0, limit: 100).count == 5)
        #expect(try store.streams(of: nil) == [a])
    }

    @Test(arguments: StoreFactory.all)
    func groupCommitChecksEachBatchOnItsOwn(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        try store.append(makeEvents(2), to: b, expectedVersion: 0)
        let d = StreamID(aggregate: "Counter", key: "d")
        let results = try store.append(batches: [
            AppendBatch(stream: a, expectedVersion: 0, events: makeEvents(3)),
            AppendBatch(stream: b, expectedVersion: 7, events: makeEvents(2)),
            AppendBatch(stream: c, expectedVersion: 0, events: makeEvents(1)),
            AppendBatch(stream: d, expectedVersion: 0, events: []),
            AppendBatch(stream: a, expectedVersion: 3, events: makeEvents(1, start: 4)),
            AppendBatch(stream: c, expectedVersion: 0, events: makeEvents(1)),
        ])
        #expect(results.count == 6)
        #expect(try results[0].get().map(\.version) == [1, 2, 3])
        #expect(results[1] == .failure(.conflict(b, expected: 7, actual: 2)))
        #expect(try results[2].get().map(\.version) == [1])
        if case .failure(let error) = results[3] { #expect(error.isInvalid) } else { Issue.record("empty batch accepted") }
        #expect(try results[4].get().map(\.version) == [4])
        #expect(results[5] == .failure(.conflict(c, expected: 0, actual: 1)))

        #expect(try store.version(of: a) == 4)
        #expect(try store.version(of: b) == 2)
        #expect(try store.version(of: c) == 1)
        #expect(try store.version(of: d) == 0)
        let committed = results.flatMap { (try? $0.get()) ?? [] }
        #expect(try store.events(after: 0, limit: 100) == (try store.events(of: b)) + committed)
        #expect(try store.append(batches: []).isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func theFeedIsInPositionOrderWithLimitsAndAfter(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        var appended: [RecordedEvent] = []
        for round in 0..<4 {
            for stream in [a, b, c] {
                appended += try store.append(makeEvents(round + 1), to: stream, expectedVersion: Int64(round * (round + 1) / 2))
            }
        }
        let feed = try store.events(after: 0, limit: 1000)
        #expect(feed == appended)
        #expect(zip(feed, feed.dropFirst()).allSatisfy { $0.position < $1.position })
        #expect(try store.events(after: 0, limit: 2) == Array(feed.prefix(2)))
        #expect(try store.events(after: feed[2].position, limit: 1000) == Array(feed.dropFirst(3)))
        #expect(try store.events(after: feed[2].position, limit: 4) == Array(feed[3..<7]))
        #expect(try store.events(after: feed.last!.position, limit: 10).isEmpty)
        #expect(try store.events(after: feed.last!.position + 1000, limit: 10).isEmpty)
        #expect(try store.events(after: 0, limit: 0).isEmpty)
        #expect(try store.events(after: -5, limit: 1) == [feed[0]])

        // Paging with `after` = the last position seen reads every event exactly once.
        var paged: [RecordedEvent] = []
        while let page = Optional(try store.events(after: paged.last?.position ?? 0, limit: 7)), !page.isEmpty {
            paged += page
        }
        #expect(paged == feed)
    }

    @Test(arguments: StoreFactory.all)
    func streamReadsHonourAfterUpToAndLimit(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        try store.append(makeEvents(10), to: a, expectedVersion: 0)
        try store.append(makeEvents(3), to: b, expectedVersion: 0)
        func versions(after: Int64, upTo: Int64? = nil, limit: Int? = nil) throws -> [Int64] {
            try store.events(of: a, after: after, upTo: upTo, limit: limit).map(\.version)
        }
        #expect(try versions(after: 0) == Array(1...10))
        #expect(try versions(after: 3) == Array(4...10))
        #expect(try versions(after: 0, upTo: 6) == Array(1...6))
        #expect(try versions(after: 3, upTo: 6) == [4, 5, 6])
        #expect(try versions(after: 3, limit: 2) == [4, 5])
        #expect(try versions(after: 3, upTo: 4, limit: 5) == [4])
        #expect(try versions(after: 0, upTo: 100) == Array(1...10))
        #expect(try versions(after: 10).isEmpty)
        #expect(try versions(after: 0, upTo: 0).isEmpty)
        #expect(try versions(after: 6, upTo: 3).isEmpty)
        #expect(try versions(after: 0, limit: 0).isEmpty)
        #expect(try versions(after: 5, upTo: Int64.min).isEmpty)
        #expect(try versions(after: Int64.max).isEmpty)
        #expect(try versions(after: 0, upTo: Int64.max, limit: Int.max) == Array(1...10))
        #expect(try versions(after: 3, limit: Int.max) == Array(4...10))
        #expect(try versions(after: -5, limit: 3) == [1, 2, 3])
        var page = ReplayPage()
        try store.readReplayPage(&page, of: a, after: 7, upTo: nil, limit: 100)
        #expect(page.entries.map(\.version) == [8, 9, 10])
        try store.readReplayPage(&page, of: a, after: 2, upTo: 4, limit: 100)
        #expect(page.entries.map(\.version) == [3, 4])
        #expect(page.entries.allSatisfy { $0.typeLength > 0 && $0.dataLength > 0 })
        #expect(try store.events(of: c).isEmpty)
        #expect(try store.events(of: a, after: 8) == Array(try store.events(of: a).suffix(2)))
    }

    @Test(arguments: StoreFactory.all)
    func streamsAreListedInOrder(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        #expect(try store.streams(of: nil).isEmpty)
        let x = StreamID(aggregate: "Counter", key: "x")
        for stream in [x, c, b, a] { try store.append(makeEvents(1), to: stream, expectedVersion: 0) }
        try store.append(makeEvents(1), to: a, expectedVersion: 1)
        #expect(try store.streams(of: "Counter") == [a, b, x])
        #expect(try store.streams(of: "Account") == [c])
        #expect(try store.streams(of: nil) == [c, a, b, x])
        #expect(try store.streams(of: "Nothing").isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func snapshotsKeepTheNewestOfAFingerprint(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        #expect(try store.snapshot(of: a) == nil)
        let five = Snapshot(stream: a, version: 5, state: #"{"count":5}"#, fingerprint: "f1")
        try store.saveSnapshot(five)
        #expect(try store.snapshot(of: a) == five)

        let ten = Snapshot(stream: a, version: 10, state: #"{"count":10}"#, fingerprint: "f1")
        try store.saveSnapshot(ten)
        #expect(try store.snapshot(of: a) == ten)

        try store.saveSnapshot(Snapshot(stream: a, version: 7, state: #"{"count":7}"#, fingerprint: "f1"))
        #expect(try store.snapshot(of: a) == ten, "an older snapshot of the same code must not win")

        let other = Snapshot(stream: a, version: 3, state: #"{"total":3}"#, fingerprint: "f2")
        try store.saveSnapshot(other)
        #expect(try store.snapshot(of: a) == other, "a snapshot of other code is replaced")

        let again = Snapshot(stream: a, version: 3, state: #"{"total":3,"again":true}"#, fingerprint: "f2")
        try store.saveSnapshot(again)
        #expect(try store.snapshot(of: a) == again, "the same version and fingerprint is replaced")

        #expect(try store.snapshot(of: b) == nil)
        let onB = Snapshot(stream: b, version: 1, state: "{}", fingerprint: "f1")
        try store.saveSnapshot(onB)
        #expect(try store.snapshot(of: b) == onB)
        #expect(try store.snapshot(of: a) == again)
    }

    @Test(arguments: StoreFactory.all)
    func anEmptyAppendIsInvalid(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        let error = #expect(throws: StoreError.self) { try store.append([], to: a, expectedVersion: 0) }
        #expect(error?.isInvalid == true)
        #expect(try store.version(of: a) == 0)
        #expect(try store.streams(of: nil).isEmpty)
        #expect(try store.events(after: 0, limit: 10).isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func aClosedStoreThrows(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        try store.append(makeEvents(1), to: a, expectedVersion: 0)
        try store.close()
        #expect(throws: StoreError.closed) { try store.append(makeEvents(1), to: a, expectedVersion: 1) }
        #expect(throws: StoreError.closed) {
            try store.append(batches: [AppendBatch(stream: a, expectedVersion: 1, events: makeEvents(1))])
        }
        #expect(throws: StoreError.closed) { try store.events(of: a) }
        #expect(throws: StoreError.closed) { try store.events(after: 0, limit: 1) }
        #expect(throws: StoreError.closed) { try store.version(of: a) }
        #expect(throws: StoreError.closed) { try store.streams(of: nil) }
        #expect(throws: StoreError.closed) { try store.snapshot(of: a) }
        #expect(throws: StoreError.closed) {
            try store.saveSnapshot(Snapshot(stream: a, version: 1, state: "{}", fingerprint: "f"))
        }
        try store.close()  // closing again is harmless
    }

    @Test(arguments: StoreFactory.all.filter(\.persists))
    func aReopenedStoreHasEverything(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        var store = fixture.store
        try store.append(makeEvents(3), to: a, expectedVersion: 0)
        _ = try store.append(batches: [
            AppendBatch(stream: b, expectedVersion: 0, events: makeEvents(2)),
            AppendBatch(stream: c, expectedVersion: 0, events: makeEvents(1)),
        ])
        let snapshot = Snapshot(stream: a, version: 3, state: #"{"count":3}"#, fingerprint: "f1")
        try store.saveSnapshot(snapshot)
        let feed = try store.events(after: 0, limit: 100)

        store = try fixture.reopen()
        #expect(try store.events(after: 0, limit: 100) == feed)
        #expect(try store.version(of: a) == 3)
        #expect(try store.version(of: b) == 2)
        #expect(try store.streams(of: nil) == [c, b, a].sorted { ($0.aggregate, $0.key) < ($1.aggregate, $1.key) })
        #expect(try store.snapshot(of: a) == snapshot)
        let next = try store.append(makeEvents(1), to: a, expectedVersion: 3)
        #expect(next[0].version == 4)
        #expect(next[0].position > feed.last!.position)
    }

    @Test(arguments: StoreFactory.all)
    func unicodeAndLargeDataRoundTrip(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let stream = StreamID(aggregate: "Zähler", key: "clé-🎉-\u{4E2D}\u{6587}")
        let unicode = NewEvent(type: "Événement", schema: 3,
                               data: #"{"text":"naïve café ☕️ 𝄞 \u0000 \"quoted\"","nul":"a\#u{0}b"}"#,
                               meta: #"{"who":"Zoë"}"#)
        // Over 1 MB, or as large as the store's stated limit allows (DynamoDB: one item, 400 KB).
        let repeats = factory.maxAppendBytes.map { ($0 - 1000) / 4 } ?? 350_000
        let large = NewEvent(type: "Blob", data: #"{"blob":""# + String(repeating: "x€", count: repeats) + #""}"#)
        #expect(large.data.utf8.count > min(1_000_000, (factory.maxAppendBytes ?? .max) - 2000))
        let recorded = try fixture.store.append([unicode, large], to: stream, expectedVersion: 0)
        let snapshot = Snapshot(stream: stream, version: 2, state: large.data, fingerprint: "ƒ-1")
        try fixture.store.saveSnapshot(snapshot)

        for pass in 1...2 {
            if pass == 2 {
                guard factory.persists else { break }
                try fixture.reopen()
            }
            let read = try fixture.store.events(of: stream)
            #expect(read == recorded)
            #expect(read.first?.data == unicode.data)
            #expect(read.last?.data == large.data)
            #expect(try fixture.store.streams(of: "Zähler") == [stream])
            #expect(try fixture.store.snapshot(of: stream) == snapshot)
        }
    }
}
