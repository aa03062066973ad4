import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// The routing wrapper's own behaviour beyond the contracts: degrading, counting, backing off.
@Suite struct SeparateSnapshotsEventStoreTests {
    let stream = StreamID(aggregate: "Counter", key: "c1")
    let snapshot = Snapshot(stream: StreamID(aggregate: "Counter", key: "c1"), version: 1, state: "{}", fingerprint: "f")

    /// A snapshot store that fails every call with `error`.
    final class FailingSnapshots: SnapshotStore, @unchecked Sendable {
        // @unchecked: `calls` and `closed` are only touched under `lock`.
        let error: StoreError
        private let lock = NSLock()
        private var calls = 0
        private var closed = false
        init(_ error: StoreError) { self.error = error }
        var callCount: Int { lock.withLock { calls } }
        var isClosed: Bool { lock.withLock { closed } }
        func snapshot(of stream: StreamID) throws -> Snapshot? {
            lock.withLock { calls += 1 }
            throw error
        }
        func saveSnapshot(_ snapshot: Snapshot) throws {
            lock.withLock { calls += 1 }
            throw error
        }
        func close() throws { lock.withLock { closed = true } }
    }

    @Test func aFailingSnapshotStoreDegradesCountsAndBacksOff() throws {
        let failing = FailingSnapshots(.io("Redis at 127.0.0.1:1 is down"))
        let store = SeparateSnapshotsEventStore(events: InMemoryEventStore(), snapshots: failing, retryAfter: .seconds(60))
        #expect(try store.snapshot(of: stream) == nil, "a failed read is no snapshot")
        try store.saveSnapshot(snapshot)  // skipped, not thrown
        #expect(try store.snapshot(of: stream) == nil)
        #expect(failing.callCount == 1, "backing off after the first failure")
        #expect(store.statistics.failures == 1)
        #expect(store.statistics.skips == 2)
        try store.append([NewEvent(type: "Incremented", data: "{}")], to: stream, expectedVersion: 0)
        #expect(try store.version(of: stream) == 1, "events are unaffected")
        try store.close()
        #expect(failing.isClosed)
        #expect(throws: StoreError.closed) { _ = try store.snapshot(of: stream) }
    }

    @Test func withoutABackOffEveryCallIsTriedAndCounted() throws {
        let failing = FailingSnapshots(.io("down"))
        let store = SeparateSnapshotsEventStore(events: InMemoryEventStore(), snapshots: failing, retryAfter: .zero)
        for _ in 0..<5 {
            _ = try store.snapshot(of: stream)
            try store.saveSnapshot(snapshot)
        }
        #expect(failing.callCount == 10)
        #expect(store.statistics.failures == 10)
        #expect(store.statistics.skips == 0)
    }

    @Test func aBadSnapshotIsNotABackOff() throws {
        let failing = FailingSnapshots(.invalid("too large"))
        let store = SeparateSnapshotsEventStore(events: InMemoryEventStore(), snapshots: failing, retryAfter: .seconds(60))
        try store.saveSnapshot(snapshot)
        try store.saveSnapshot(snapshot)
        #expect(failing.callCount == 2, "an invalid snapshot says nothing about the store being down")
    }

    @Test func withoutDegradingFailuresReachTheCaller() throws {
        let failing = FailingSnapshots(.io("down"))
        let store = SeparateSnapshotsEventStore(events: InMemoryEventStore(), snapshots: failing, degrades: false)
        #expect(throws: StoreError.io("down")) { _ = try store.snapshot(of: stream) }
        #expect(throws: StoreError.io("down")) { try store.saveSnapshot(snapshot) }
    }

    @Test func capabilitiesAreTheEventStoresAndSnapshotsGoToTheOtherStore() throws {
        let directory = try TemporaryDirectory()
        let events = try SQLiteEventStore(path: directory.path("events.db"))
        let snapshots = InMemoryEventStore()
        let store = SeparateSnapshotsEventStore(events: events, snapshots: snapshots)
        #expect(store.projections != nil)
        #expect((store.projections as AnyObject?) === (events.projections as AnyObject?))
        #expect(store.commitNotifier == nil && events.commitNotifier == nil)
        try store.saveSnapshot(snapshot)
        #expect(try snapshots.snapshot(of: stream) == snapshot)
        #expect(try events.snapshot(of: stream) == nil)
        try store.close()
        #expect(throws: StoreError.self) { _ = try events.version(of: stream) }
    }
}
