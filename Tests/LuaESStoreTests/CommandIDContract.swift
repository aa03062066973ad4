import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// Command ids (idempotency keys) in every store: a command's events are found by its id,
/// and an id commits once. The store enforces it, so that two writers (two nodes) racing
/// with one key cannot both commit it.
@Suite("Store contract: command ids")
struct CommandIDContract {
    let a = StreamID(aggregate: "Counter", key: "a")
    let b = StreamID(aggregate: "Counter", key: "b")

    func events(_ count: Int, command: String?, start: Int = 1) -> [NewEvent] {
        makeEvents(count, start: start).map { event in
            var event = event
            event.commandID = command
            return event
        }
    }

    @Test(arguments: StoreFactory.all)
    func aCommandsEventsAreFoundByItsID(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let recorded = try fixture.store.append(events(2, command: "cmd-1"), to: a, expectedVersion: 0)
        try fixture.store.append(events(1, command: nil, start: 3), to: a, expectedVersion: 2)
        #expect(try fixture.store.events(forCommand: "cmd-1") == recorded)
        #expect(try fixture.store.events(forCommand: "cmd-2").isEmpty)
    }

    @Test(arguments: StoreFactory.all)
    func anIDCommitsOnce(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        try fixture.store.append(events(1, command: "once"), to: a, expectedVersion: 0)
        for (stream, expected) in [(a, Int64(1)), (b, Int64(0))] {
            let error = #expect(throws: StoreError.self) {
                try fixture.store.append(events(2, command: "once"), to: stream, expectedVersion: expected)
            }
            #expect(error?.duplicateCommandID == "once", "\(String(describing: error))")
            #expect(error?.kind == .conflict)
        }
        #expect(try fixture.store.version(of: a) == 1 && fixture.store.version(of: b) == 0, "nothing of a refused append is stored")
        if factory.persists {
            let store = try fixture.reopen()
            #expect(throws: StoreError.self) { try store.append(events(1, command: "once"), to: b, expectedVersion: 0) }
        }
    }

    @Test(arguments: StoreFactory.all)
    func inAGroupCommitATakenIDFailsOnlyItsBatch(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        try fixture.store.append(events(1, command: "taken"), to: a, expectedVersion: 0)
        let c = StreamID(aggregate: "Counter", key: "c"), d = StreamID(aggregate: "Counter", key: "d")
        let outcomes = try fixture.store.append(batches: [
            AppendBatch(stream: b, expectedVersion: 0, events: events(1, command: "taken")),
            AppendBatch(stream: c, expectedVersion: 0, events: events(2, command: "fresh") + events(1, command: nil)),
            // the same id twice in one transaction: the second batch has it taken
            AppendBatch(stream: d, expectedVersion: 0, events: events(1, command: "fresh-2")),
            AppendBatch(stream: a, expectedVersion: 1, events: events(1, command: "fresh-2")),
        ])
        #expect(outcomes.map { (try? $0.get())?.count } == [nil, 3, 1, nil])
        #expect(outcomes.map { if case .failure(let e) = $0 { e.duplicateCommandID } else { nil } } == ["taken", nil, nil, "fresh-2"])
        #expect(try fixture.store.version(of: b) == 0 && fixture.store.version(of: a) == 1)
    }

    @Test(arguments: StoreFactory.all)
    func writersRacingWithOneIDCommitItOnce(_ factory: StoreFactory) throws {
        let fixture = try StoreFixture(factory)
        defer { fixture.close() }
        let store = fixture.store
        let writers = 6, rounds = 15
        let wins = Locked<[Int: Int]>([:])
        let unexpected = Locked<[String]>([])
        onThreads(writers) { writer in
            for round in 0..<rounds {
                let stream = StreamID(aggregate: "Counter", key: "w\(writer)-r\(round)")
                do {
                    try store.append(events(1, command: "race-\(round)"), to: stream, expectedVersion: 0)
                    wins.withLock { $0[round, default: 0] += 1 }
                } catch let error as StoreError where error.duplicateCommandID == "race-\(round)" {
                    continue
                } catch {
                    unexpected.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(unexpected.current.isEmpty, "\(unexpected.current)")
        #expect(wins.current == Dictionary(uniqueKeysWithValues: (0..<rounds).map { ($0, 1) }), "one writer wins each id")
        for round in 0..<rounds { #expect(try store.events(forCommand: "race-\(round)").count == 1) }
    }
}
