import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// Command execution (ARCHITECTURE.md, "The engine"): conflicts, retries, expected versions, cache, drivers.
@Suite struct EngineTests {
    @Test func aStaleCacheConflictsThenRetriesOnFreshState() throws {
        let store = InMemoryEventStore()
        let a = try loadExample("counter.lua", store: store)
        let b = try loadExample("counter.lua", store: store)
        _ = try a.execute(aggregate: "Counter", key: "c", command: "increment")          // a caches version 1
        _ = try b.execute(aggregate: "Counter", key: "c", command: "increment", args: #"{"by":5}"#)
        let r = try a.execute(aggregate: "Counter", key: "c", command: "increment")     // conflict at 1, retry at 2
        #expect(r.version == 3)
        #expect(r.state == #"{"count":7}"#)
        #expect(try store.events(of: StreamID(aggregate: "Counter", key: "c")).map(\.version) == [1, 2, 3])
    }

    @Test func aConsistentReadCatchesUpWithOtherEnginesCommits() throws {
        let store = InMemoryEventStore()
        let a = try loadExample("counter.lua", store: store)
        let b = try loadExample("counter.lua", store: store)
        _ = try a.execute(aggregate: "Counter", key: "c", command: "increment")          // a caches version 1
        #expect(try a.state(aggregate: "Counter", key: "c").version == 1)
        _ = try b.execute(aggregate: "Counter", key: "c", command: "increment", args: #"{"by":5}"#)
        let read = try a.state(aggregate: "Counter", key: "c")
        #expect(read.version == 2, "the read replays what another engine appended after a's cached version")
        #expect(read.state == #"{"count":6}"#)
        let r = try a.execute(aggregate: "Counter", key: "c", command: "increment")      // no conflict now
        #expect(r.version == 3)
    }

    @Test func anExplicitExpectedVersionReportsTheConflict() throws {
        let store = InMemoryEventStore()
        let engine = try loadExample("counter.lua", store: store)
        _ = try engine.execute(aggregate: "Counter", key: "c", command: "increment", expectedVersion: 0)
        let error = engineError { _ = try engine.execute(aggregate: "Counter", key: "c", command: "increment", expectedVersion: 0) }
        #expect(error?.kind == .conflict)
        #expect(error?.message == "Counter/c is at version 1, the command expected 0")
        #expect(try store.version(of: StreamID(aggregate: "Counter", key: "c")) == 1)
    }

    @Test func concurrentWorkersOnOneStoreLoseNothing() throws {
        let store = InMemoryEventStore()
        let workers = 4, perWorker = 50
        let failures = Locked(0)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            do {
                var options = EngineOptions()
                options.maxAttempts = 1000
                let engine = try loadExample("bank.lua", store: store, options: options)
                _ = try? engine.execute(aggregate: "Account", key: "shared", command: "open", args: #"{"owner":"x"}"#)
                for _ in 0..<perWorker {
                    _ = try engine.execute(aggregate: "Account", key: "shared", command: "deposit", args: #"{"amount":1}"#)
                }
            } catch {
                failures.withLock { $0 += 1 }
            }
        }
        #expect(failures.current == 0)
        let events = try store.events(of: StreamID(aggregate: "Account", key: "shared"))
        #expect(events.map(\.version) == Array(1...Int64(events.count)))
        #expect(events.filter { $0.type == "Deposited" }.count == workers * perWorker)
        #expect(events.filter { $0.type == "Opened" }.count == 1)
    }

    @Test func theCacheIsBoundedAndEvictionKeepsStatesRight() throws {
        var options = EngineOptions()
        options.cacheCapacity = 5
        let engine = try loadExample("counter.lua", options: options)
        for round in 1...3 {
            for key in 0..<20 {
                let r = try engine.execute(aggregate: "Counter", key: "k\(key)", command: "increment")
                #expect(r.state == #"{"count":\#(round)}"#)
            }
        }
        #expect(engine.cache.count <= 5)
    }

    @Test func theCacheStaysWithinItsMemoryBudget() throws {
        var options = EngineOptions()
        options.cacheMemoryBytes = 4 << 20
        options.returnState = false
        let engine = try makeEngine("""
            local Blob = aggregate('Blob', { snapshot_every = 0 })
            Blob:event('Grown', { n = 'integer' })
            function Blob.handle.grow(state, cmd) return Blob.Grown{ n = cmd.n } end
            function Blob.replay.Grown(state, ev) state.data = ('x'):rep(ev.n) end
            """, options: options)
        for round in 0..<2 {
            for key in 0..<300 {
                _ = try engine.execute(aggregate: "Blob", key: "b\(key)", command: "grow", args: #"{"n":\#(50_000 + round)}"#)
            }
        }
        #expect(engine.cache.count < 300, "some states were evicted")
        #expect(engine.host.collectGarbage() < 8 << 20, "memory stays near the budget")
        #expect(try engine.state(aggregate: "Blob", key: "b7").version == 2)
    }

    @Test func mismatchedOrBrokenSnapshotsAreIgnored() throws {
        let store = InMemoryEventStore()
        let engine = try loadExample("counter.lua", store: store)
        for _ in 1...12 { _ = try engine.execute(aggregate: "Counter", key: "c", command: "increment") }
        let stream = StreamID(aggregate: "Counter", key: "c")
        let fingerprint = try #require(engine.domain.aggregate(named: "Counter")?.fingerprint)
        try store.saveSnapshot(Snapshot(stream: stream, version: 12, state: #"{"count":999}"#, fingerprint: "other-code"))
        let fresh = try loadExample("counter.lua", store: store)
        #expect(try fresh.state(aggregate: "Counter", key: "c").state == #"{"count":12}"#)
        try store.saveSnapshot(Snapshot(stream: stream, version: 12, state: "{not json", fingerprint: fingerprint))
        let again = try loadExample("counter.lua", store: store)
        #expect(try again.state(aggregate: "Counter", key: "c").state == #"{"count":12}"#)
    }

    @Test func aCommandMayEmitTenThousandEvents() throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine("""
            local Import = aggregate('Import', { snapshot_every = 0 })
            Import:event('Row', { n = 'integer' })
            function Import.handle.load(state, cmd)
              local out = {}
              for i = 1, cmd.rows do out[i] = Import.Row{ n = i } end
              return out
            end
            function Import.replay.Row(state, ev) state.rows = (state.rows or 0) + 1 end
            """, store: store)
        let r = try engine.execute(aggregate: "Import", key: "i", command: "load", args: #"{"rows":10000}"#)
        #expect(r.version == 10_000)
        #expect(r.state == #"{"rows":10000}"#)
    }

    @Test func driverScriptsUseTheDrivingAPI() throws {
        let dir = temporaryDirectory()
        try FileManager.default.copyItem(at: scriptsDirectory.appendingPathComponent("counter.lua"), to: dir.appendingPathComponent("counter.lua"))
        let driver = """
            local Counter = require('counter')
            local c = Counter('c1')
            local events = c:increment{ by = 2 }
            assert(#events == 1 and events[1].type == 'Incremented' and events[1].version == 1 and events[1].data.by == 2)
            c:increment{}
            assert(c.version == 2 and c.state.count == 3, 'state ' .. tostring(c.state.count))
            assert(state(Counter, 'c1', 1).count == 2)
            assert(#history(Counter, 'c1') == 2)
            local ok, err = pcall(function() c:increment{ by = 100 } end)
            assert(not ok and err.kind == 'fault' and err.code == 'limit_reached', tostring(err))
            assert(tostring(err) == 'fault: limit_reached: counter is at its limit', tostring(err))
            local ok2, err2 = pcall(function() c:increment({}, { expected_version = 0 }) end)
            assert(not ok2 and err2.kind == 'conflict', tostring(err2))
            c:increment{ by = 27 }
            """
        try driver.write(to: dir.appendingPathComponent("drive.lua"), atomically: true, encoding: .utf8)
        let store = InMemoryEventStore()
        let engine = try Engine(store: store)
        try engine.run(script: dir.appendingPathComponent("drive.lua").path, display: "drive.lua")
        #expect(try store.version(of: StreamID(aggregate: "Counter", key: "c1")) == 3)
        let failing = "local Counter = require('counter')\nCounter('c2'):increment{ by = 31 }\n"
        try failing.write(to: dir.appendingPathComponent("fail.lua"), atomically: true, encoding: .utf8)
        let error = engineError { try engine.run(script: dir.appendingPathComponent("fail.lua").path, display: "fail.lua") }
        #expect(error?.kind == .fault)
        #expect(error?.location == "fail.lua:2")
        #expect(try store.version(of: StreamID(aggregate: "Counter", key: "c2")) == 0)
    }
}
