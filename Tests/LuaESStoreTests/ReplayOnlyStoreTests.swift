import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// `ReplayOnlyStore` is the read side of the contract over any store: every read is the
/// wrapped store's, capabilities are forwarded, writes are refused and change nothing,
/// snapshots are hidden (so verification replays from the first event).
@Suite struct ReplayOnlyStoreTests {
    let a = StreamID(aggregate: "Counter", key: "a")

    @Test(arguments: StoreFactory.all)
    func readsAreTheWrappedStoresAndWritesChangeNothing(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let base = fixture.store
        try base.append(makeEvents(3), to: a, expectedVersion: 0)
        try base.saveSnapshot(Snapshot(stream: a, version: 2, state: "{}", fingerprint: "f"))
        let view = ReplayOnlyStore(base)

        #expect(try view.events(of: a) == base.events(of: a))
        #expect(try view.events(after: 0, limit: 10) == base.events(after: 0, limit: 10))
        #expect(try view.version(of: a) == 3)
        #expect(try view.streams(of: nil) == base.streams(of: nil))
        var page = ReplayPage()
        try view.readReplayPage(&page, of: a, after: 1, upTo: nil, limit: 10)
        #expect(page.count == 2 && page.lastVersion == 3)
        #expect(try view.snapshot(of: a) == nil)
        #expect((view.projections == nil) == (base.projections == nil))
        #expect((view.commitNotifier == nil) == (base.commitNotifier == nil))

        #expect(throws: StoreError.self) { try view.append(makeEvents(1), to: a, expectedVersion: 3) }
        let outcome = try? view.append(batches: [AppendBatch(stream: a, expectedVersion: 3, events: makeEvents(1))])
        #expect(outcome == nil)
        try view.saveSnapshot(Snapshot(stream: a, version: 3, state: "{}", fingerprint: "f"))
        try view.close()
        #expect(try base.version(of: a) == 3)
        #expect(try base.snapshot(of: a)?.version == 2)
    }
}
