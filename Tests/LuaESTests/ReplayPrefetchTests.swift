import Foundation
@testable import LuaES
import LuaESCore
import LuaESStore
import LuaESTestSupport
import Testing

/// Long loads read the next page while Lua replays the current one (ReplayPrefetch): the state
/// is the same as page by page, `upTo` is kept, and a failed read fails the load cleanly.
@Suite struct ReplayPrefetchTests {
    static let counter = """
        local C = aggregate("C", { initial = { total = 0, seen = 0 } })
        C:event("Added", { n = "integer" })
        function C.handle.add(state, cmd) return C.Added{ n = cmd.n } end
        function C.replay.Added(state, ev) state.total = state.total * 3 % 1000003 + ev.n; state.seen = state.seen + 1 end
        """

    /// The state a one-page load computes, for comparison.
    static func expected(_ values: [Int]) -> String {
        var total = 0
        for n in values { total = total * 3 % 1_000_003 + n }
        return #"{"seen":\#(values.count),"total":\#(total)}"#
    }

    static func filled(_ store: EventStore, count: Int) throws -> [Int] {
        let values = (0..<count).map { ($0 * 7919) % 1000 }
        var version: Int64 = 0
        for chunk in stride(from: 0, to: count, by: 100) {
            let events = values[chunk..<min(chunk + 100, count)].map { NewEvent(type: "Added", data: #"{"n":\#($0)}"#) }
            try store.append(Array(events), to: StreamID(aggregate: "C", key: "k"), expectedVersion: version)
            version += Int64(events.count)
        }
        return values
    }

    @Test(arguments: [1, 7, 100, 1000, 5000])
    func pagedLoadsMatchTheWholeHistory(pageSize: Int) throws {
        let store = InMemoryEventStore()
        let values = try Self.filled(store, count: 1000)
        var options = EngineOptions()
        options.replayPageSize = pageSize
        let engine = try makeEngine(Self.counter, options: options, store: store)
        #expect(try engine.state(aggregate: "C", key: "k").state == Self.expected(values))
        for upTo in [1, 999, 1000, min(pageSize, 1000), min(pageSize * 2 + 1, 1000)] {
            let at = try engine.state(aggregate: "C", key: "k", at: Int64(upTo))
            #expect(at.version == Int64(upTo))
            #expect(at.state == Self.expected(Array(values.prefix(upTo))), "up to \(upTo), pages of \(pageSize)")
        }
    }

    @Test func aFailedPrefetchFailsTheLoadAndTheEngineGoesOn() throws {
        let store = InMemoryEventStore()
        let values = try Self.filled(store, count: 50)
        let failing = MiddlewareEventStore(base: store, middleware: [FailingReads(failOnRead: 3)])
        var options = EngineOptions()
        options.replayPageSize = 10
        let engine = try makeEngine(Self.counter, options: options, store: failing)
        #expect(throws: StoreError.self) { _ = try engine.state(aggregate: "C", key: "k") }
        #expect(try engine.state(aggregate: "C", key: "k").state == Self.expected(values), "the next load reads everything")
        let r = try engine.execute(aggregate: "C", key: "k", command: "add", args: #"{"n":5}"#)
        #expect(r.version == 51)
    }
}

/// A store whose `failOnRead`-th replay page read throws (the prefetched one, with pages of 10).
private final class FailingReads: StoreMiddleware, @unchecked Sendable {
    // @unchecked: `reads` is only touched while `lock` is held.
    private let lock = NSLock()
    private var reads = 0
    let failOnRead: Int

    init(failOnRead: Int) { self.failOnRead = failOnRead }

    var interceptsLoads: Bool { true }

    func load(_ query: LoadQuery, next: (LoadQuery) throws -> [RecordedEvent]) throws -> [RecordedEvent] {
        let n = lock.withLock { reads += 1; return reads }
        if n == failOnRead { throw StoreError.io("injected read failure") }
        return try next(query)
    }
}

/// Event and command ids: version 4 UUIDs, all different, from buffered system randomness.
@Suite struct UUIDSourceTests {
    @Test func idsAreVersionFourUUIDsAndNeverRepeat() {
        var source = UUIDSource()
        var seen = Set<String>()
        for _ in 0..<5000 {
            let id = source.next().text
            #expect(UUID(uuidString: id) != nil, "\(id)")
            #expect(id == id.lowercased())
            let chars = Array(id)
            #expect(chars[14] == "4")
            #expect("89ab".contains(chars[19]))
            seen.insert(id)
        }
        #expect(seen.count == 5000, "the buffer is refilled, never reused")
    }

    @Test func eventIdsDerivedFromABaseAreVersionFourAndDistinct() {
        var source = UUIDSource()
        var seen = Set<UUIDBits>()
        for _ in 0..<50 {
            let base = source.next()
            seen.insert(base)
            for ordinal in 0..<1000 {
                let id = base.event(ordinal)
                #expect(id.base(ofEvent: ordinal) == base)
                let text = Array(id.text)
                #expect(text[14] == "4" && "89ab".contains(text[19]), "\(id.text)")
                #expect(UUIDBits(text: id.text.utf8) == id)
                seen.insert(id)
            }
        }
        #expect(seen.count == 50 * 1001, "no event id equals another or its base")
    }
}
