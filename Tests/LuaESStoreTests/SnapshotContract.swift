import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// The rule every `SnapshotStore` keeps (SnapshotStore.swift): another fingerprint replaces;
/// the same fingerprint replaces only with a version at least as high; racing savers leave
/// the highest. Run against each kind in `SnapshotStoreFactory.all`.
@Suite("Snapshot contract")
struct SnapshotContract {
    let a = StreamID(aggregate: "Counter", key: "a")

    @Test(arguments: SnapshotStoreFactory.all)
    func aMissingSnapshotIsNil(_ factory: SnapshotStoreFactory) throws {
        let fixture = try SnapshotStoreFixture(factory)
        #expect(try fixture.store.snapshot(of: a) == nil)
        try fixture.store.saveSnapshot(Snapshot(stream: a, version: 1, state: "{}", fingerprint: "f"))
        #expect(try fixture.store.snapshot(of: StreamID(aggregate: "Counter", key: "b")) == nil)
        #expect(try fixture.store.snapshot(of: StreamID(aggregate: "Other", key: "a")) == nil)
    }

    @Test(arguments: SnapshotStoreFactory.all)
    func newerWinsAndOlderNeverReplaces(_ factory: SnapshotStoreFactory) throws {
        let fixture = try SnapshotStoreFixture(factory)
        let store = fixture.store
        let five = Snapshot(stream: a, version: 5, state: #"{"count":5}"#, fingerprint: "f1")
        try store.saveSnapshot(five)
        #expect(try store.snapshot(of: a) == five)
        let ten = Snapshot(stream: a, version: 10, state: #"{"count":10}"#, fingerprint: "f1")
        try store.saveSnapshot(ten)
        #expect(try store.snapshot(of: a) == ten)
        try store.saveSnapshot(Snapshot(stream: a, version: 9, state: #"{"count":9}"#, fingerprint: "f1"))
        try store.saveSnapshot(Snapshot(stream: a, version: 1, state: #"{"count":1}"#, fingerprint: "f1"))
        #expect(try store.snapshot(of: a) == ten, "an older snapshot of the same code must not win")
        // 100 and 99 differ in length: versions compare as numbers, not as text
        let hundred = Snapshot(stream: a, version: 100, state: #"{"count":100}"#, fingerprint: "f1")
        try store.saveSnapshot(hundred)
        try store.saveSnapshot(Snapshot(stream: a, version: 99, state: #"{"count":99}"#, fingerprint: "f1"))
        #expect(try store.snapshot(of: a) == hundred)
        let big = Snapshot(stream: a, version: Int64.max - 1, state: #"{"count":"big"}"#, fingerprint: "f1")
        try store.saveSnapshot(big)
        try store.saveSnapshot(Snapshot(stream: a, version: Int64.max - 2, state: #"{"count":"less"}"#, fingerprint: "f1"))
        #expect(try store.snapshot(of: a) == big, "versions past 2^53 compare exactly")
        let same = Snapshot(stream: a, version: Int64.max - 1, state: #"{"count":"again"}"#, fingerprint: "f1")
        try store.saveSnapshot(same)
        #expect(try store.snapshot(of: a) == same, "the same version and fingerprint is replaced")
    }

    @Test(arguments: SnapshotStoreFactory.all)
    func anotherFingerprintReplaces(_ factory: SnapshotStoreFactory) throws {
        let fixture = try SnapshotStoreFixture(factory)
        let store = fixture.store
        try store.saveSnapshot(Snapshot(stream: a, version: 50, state: #"{"count":50}"#, fingerprint: "old"))
        let lower = Snapshot(stream: a, version: 3, state: #"{"total":3}"#, fingerprint: "new")
        try store.saveSnapshot(lower)
        #expect(try store.snapshot(of: a) == lower, "a snapshot of other replay code is replaced, even by a lower version")
        let back = Snapshot(stream: a, version: 2, state: #"{"count":2}"#, fingerprint: "old")
        try store.saveSnapshot(back)
        #expect(try store.snapshot(of: a) == back)
    }

    @Test(arguments: SnapshotStoreFactory.all)
    func racingSaversLeaveTheHighestVersion(_ factory: SnapshotStoreFactory) throws {
        let fixture = try SnapshotStoreFixture(factory)
        let store = fixture.store
        let failures = Locked<[String]>([])
        let threads = 6, perThread = 40
        onThreads(threads) { thread in
            // interleaved and shuffled: every thread saves old and new versions in a random order
            for version in (0..<perThread).map({ Int64($0 * threads + thread + 1) }).shuffled() {
                do {
                    try store.saveSnapshot(Snapshot(stream: a, version: version, state: #"{"v":\#(version)}"#, fingerprint: "f"))
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.current.isEmpty)
        let highest = Int64(threads * perThread)
        #expect(try store.snapshot(of: a) == Snapshot(stream: a, version: highest, state: #"{"v":\#(highest)}"#, fingerprint: "f"))
    }

    @Test(arguments: SnapshotStoreFactory.all)
    func anyUnicodeNamesAndStatesRoundTrip(_ factory: SnapshotStoreFactory) throws {
        let fixture = try SnapshotStoreFixture(factory)
        let store = fixture.store
        let names = ["with space", #"quote " and ' and \ "#, "emoji 🧾🚀", "colon:key", "new\nline", "tab\t", "日本語", "*3\r\n$3"]
        var saved: [Snapshot] = []
        for (i, name) in names.enumerated() {
            let stream = StreamID(aggregate: "Agg \(name)", key: name)
            let snapshot = Snapshot(stream: stream, version: Int64(i + 1), state: #"{"name":"\#(name.debugDescription)","ü":"€"}"#,
                                    fingerprint: "fp \(name)")
            try store.saveSnapshot(snapshot)
            saved.append(snapshot)
        }
        for snapshot in saved { #expect(try store.snapshot(of: snapshot.stream) == snapshot) }
        // where aggregate and key split a name differs: these are two streams, never one key
        let left = Snapshot(stream: StreamID(aggregate: "a:b", key: "c"), version: 1, state: #"{"s":"left"}"#, fingerprint: "f")
        let right = Snapshot(stream: StreamID(aggregate: "a", key: "b:c"), version: 2, state: #"{"s":"right"}"#, fingerprint: "f")
        try store.saveSnapshot(left)
        try store.saveSnapshot(right)
        #expect(try store.snapshot(of: left.stream) == left)
        #expect(try store.snapshot(of: right.stream) == right)
    }

    @Test(arguments: SnapshotStoreFactory.all)
    func aLargeStateRoundTrips(_ factory: SnapshotStoreFactory) throws {
        let fixture = try SnapshotStoreFixture(factory)
        // about 560 KB, or what fits under a store's documented item limit (DynamoDB: 400 KB)
        let count = factory.maxBytes.map { $0 / 16 } ?? 40_000
        let items = (0..<count).map { #""item \#($0) ✓""# }.joined(separator: ",")
        let snapshot = Snapshot(stream: a, version: 7, state: "[" + items + "]", fingerprint: "f")
        try fixture.store.saveSnapshot(snapshot)
        #expect(try fixture.store.snapshot(of: a) == snapshot)
    }
}
