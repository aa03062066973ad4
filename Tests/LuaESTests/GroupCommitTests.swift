import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// Batches of commands in one transaction, idempotency keys, and the worker pool.
@Suite struct GroupCommitTests {
    @Test(arguments: [false, true])
    func aBatchSeesItsOwnCommandsAndFailsThemOneByOne(sqlite: Bool) throws {
        let dir = temporaryDirectory()
        let store: EventStore = sqlite ? try SQLiteEventStore(path: dir.appendingPathComponent("s.db").path) : InMemoryEventStore()
        let engine = try loadExample("counter.lua", store: store)
        let requests = [
            CommandRequest(aggregate: "Counter", key: "a", command: "increment", args: #"{"by":10}"#),
            CommandRequest(aggregate: "Counter", key: "a", command: "increment", args: #"{"by":15}"#),
            CommandRequest(aggregate: "Counter", key: "a", command: "increment", args: #"{"by":10}"#),  // 35 > 30: fault
            CommandRequest(aggregate: "Counter", key: "b", command: "increment"),
            CommandRequest(aggregate: "Counter", key: "b", command: "nope"),
            CommandRequest(aggregate: "Counter", key: "b", command: "increment", expectedVersion: 1),
        ]
        let results = engine.execute(batch: requests)
        #expect(try results[0].get().version == 1)
        #expect(try results[1].get().state == #"{"count":25}"#)
        #expect((results[2].error as? EngineError)?.code == "limit_reached")
        #expect(try results[3].get().version == 1)
        #expect((results[4].error as? EngineError)?.code == "unknown_command")
        #expect(try results[5].get().version == 2)
        #expect(try store.events(of: StreamID(aggregate: "Counter", key: "a")).map(\.version) == [1, 2])
        engine.dropCache()
        #expect(try engine.state(aggregate: "Counter", key: "a").state == #"{"count":25}"#)
    }

    @Test func aConflictInABatchRetriesAloneOnFreshState() throws {
        let store = InMemoryEventStore()
        let engine = try loadExample("counter.lua", store: store)
        let other = try loadExample("counter.lua", store: store)
        _ = try engine.execute(aggregate: "Counter", key: "c", command: "increment")      // engine caches v1
        _ = try other.execute(aggregate: "Counter", key: "c", command: "increment")       // store moves to v2
        let results = engine.execute(batch: [
            CommandRequest(aggregate: "Counter", key: "c", command: "increment"),
            CommandRequest(aggregate: "Counter", key: "c", command: "increment"),
        ])
        #expect(try results.map { try $0.get().version } == [3, 4])
        #expect(try store.events(of: StreamID(aggregate: "Counter", key: "c")).map(\.version) == [1, 2, 3, 4])
    }

    @Test(arguments: [false, true])
    func anIdempotencyKeyReturnsTheFirstResultAcrossRestarts(sqlite: Bool) throws {
        let dir = temporaryDirectory()
        let path = dir.appendingPathComponent("s.db").path
        let store: EventStore = sqlite ? try SQLiteEventStore(path: path) : InMemoryEventStore()
        let engine = try loadExample("counter.lua", store: store)
        let request = CommandRequest(aggregate: "Counter", key: "k", command: "increment", args: #"{"by":3}"#, idempotencyKey: "req-1")
        let first = try engine.execute(request)
        _ = try engine.execute(aggregate: "Counter", key: "k", command: "increment")
        let again = try engine.execute(request)
        #expect(again.events == first.events)
        #expect(again.version == 1)
        #expect(again.state == #"{"count":3}"#)
        let batch = engine.execute(batch: [request, request])
        #expect(try batch.map { try $0.get().version } == [1, 1])
        #expect(try store.version(of: StreamID(aggregate: "Counter", key: "k")) == 2)
        let misuse = engineError { _ = try engine.execute(CommandRequest(aggregate: "Counter", key: "other", command: "increment", idempotencyKey: "req-1")) }
        #expect(misuse?.code == "idempotency_key_reused")
        if sqlite {
            try store.close()
            let reopened = try loadExample("counter.lua", store: try SQLiteEventStore(path: path))
            #expect(try reopened.execute(request).events == first.events)
        }
    }

    /// Two engines (two nodes) on one store run the same key at the same moment: the other
    /// engine commits it between this engine's lookup of the key and its append (a middleware
    /// makes that moment). This engine's append then meets a conflict or the taken key, and
    /// its answer is the other's result, alone, in a batch, or when it named the version.
    @Test func aKeyCommittedByAnotherEngineMeanwhileIsItsResult() throws {
        let store = InMemoryEventStore()
        let other = try loadExample("counter.lua", store: store)
        let race = BeforeAppend()
        let engine = try loadExample("counter.lua", store: MiddlewareEventStore(base: store, middleware: [race]))
        let keyed = { (key: String, stream: String, expected: Int64?) in
            CommandRequest(aggregate: "Counter", key: stream, command: "increment", expectedVersion: expected, idempotencyKey: key)
        }
        for (round, (key, expected)) in [("k1", nil), ("k2", Int64(1)), ("k3", nil)].enumerated() {
            let theirs = Locked<CommandResult?>(nil)
            race.once { theirs.withLock { $0 = try? other.execute(keyed(key, "n", nil)) } }
            let mine = round == 2 ? try engine.execute(batch: [keyed(key, "n", expected)])[0].get()
                : try engine.execute(keyed(key, "n", expected))
            #expect(mine.events == theirs.current?.events, "\(key): the committed result")
            _ = try engine.state(aggregate: "Counter", key: "n")  // caches the stream at its version
        }
        #expect(try store.version(of: StreamID(aggregate: "Counter", key: "n")) == 3, "each key ran once")
        // the other engine took the key on another stream: the key is reused, nothing more is stored
        race.once { _ = try? other.execute(keyed("k4", "elsewhere", nil)) }
        let misuse = engineError { _ = try engine.execute(keyed("k4", "n", nil)) }
        #expect(misuse?.code == "idempotency_key_reused", "\(String(describing: misuse))")
        #expect(try store.version(of: StreamID(aggregate: "Counter", key: "n")) == 3)
    }

    @Test func thePoolRunsManyClientsWithoutLosingEvents() async throws {
        let store = InMemoryEventStore()
        let commits = Locked(0)
        let pool = try WorkerPool(count: 2, makeEngine: { try loadExample("bank.lua", store: store) },
                                  afterBatch: { _ in commits.withLock { $0 += 1 } })
        defer { pool.shutdown() }
        for key in 0..<10 {
            _ = try await pool.execute(CommandRequest(aggregate: "Account", key: "a\(key)", command: "open",
                                                      args: #"{"owner":"x"}"#)).get()
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<200 {
                group.addTask {
                    let key = "a\(client % 10)"
                    _ = try await pool.execute(CommandRequest(aggregate: "Account", key: key, command: "deposit",
                                                              args: #"{"amount":1}"#)).get()
                }
            }
            try await group.waitForAll()
        }
        for key in 0..<10 {
            let state = try await pool.read(aggregate: "Account", key: "a\(key)") { try $0.state(aggregate: "Account", key: "a\(key)") }
            #expect(field(state.state, "balance") as? Int == 20)
            #expect(try store.events(of: StreamID(aggregate: "Account", key: "a\(key)")).map(\.version) == Array(1...21))
        }
        #expect(commits.current > 0)
    }
}

extension Result {
    var error: Failure? {
        if case .failure(let e) = self { return e }
        return nil
    }
}

/// Runs an action once, just before the next append reaches the store.
private final class BeforeAppend: StoreMiddleware, @unchecked Sendable {
    // @unchecked: `action` is only read and written while `lock` is held.
    private let lock = NSLock()
    private var action: (() -> Void)?

    func once(_ action: @escaping () -> Void) { lock.withLock { self.action = action } }

    func append(_ batches: [AppendBatch], next: ([AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>]) throws
        -> [Result<[RecordedEvent], StoreError>] {
        let action = lock.withLock { () -> (() -> Void)? in
            defer { self.action = nil }
            return self.action
        }
        action?()
        return try next(batches)
    }

    var interceptsLoads: Bool { false }
}
