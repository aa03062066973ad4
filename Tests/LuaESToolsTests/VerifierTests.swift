import Foundation
@testable import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore
import LuaESTestSupport
@testable import LuaESTools
import Testing

/// `esrun verify`'s engine: replays agree, snapshots match, and what it reports when they do not.
@Suite struct VerifierTests {
    /// A counter whose replay keeps a module-level count, so a replay depends on earlier replays.
    static let leaky = """
        local Counter = aggregate("Counter", { snapshot_every = 2, initial = function() return { count = 0 } end })
        Counter:event("Incremented", { by = "integer" })
        local replays = 0
        function Counter.handle.increment(state, cmd) return Counter.Incremented{ by = cmd.by or 1 } end
        function Counter.replay.Incremented(state, ev)
          replays = replays + 1
          state.count = state.count + ev.by
          state.replays = replays
        end
        return Counter
        """

    func domainFile(_ source: String) throws -> String {
        let url = temporaryDirectory().appendingPathComponent("domain.lua")
        try source.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func anHonestStoreVerifies() throws {
        let store = InMemoryEventStore()
        let engine = try loadExample("bank.lua", store: store)
        for key in ["a", "b", "c"] {
            _ = try engine.execute(aggregate: "Account", key: key, command: "open", args: #"{"owner":"ada"}"#)
            for _ in 0..<60 { _ = try engine.execute(aggregate: "Account", key: key, command: "deposit", args: #"{"amount":5}"#) }
        }
        var progress: [Int] = []
        let report = try Verifier(domain: scriptsDirectory.appendingPathComponent("bank.lua").path, store: store)
            .run(progress: { done, total in progress.append(done); #expect(total == 3) })
        #expect(report.problems == [])
        #expect(report.verified == 3)
        #expect(report.snapshotsChecked == 3) // bank snapshots every 50 events
        #expect(progress == [1, 2, 3])
        #expect(report.summary == "3 streams verified, 0 problems (3 snapshots checked)")
    }

    @Test func aWrongSnapshotIsReportedWithItsVersionAndADiff() throws {
        let store = InMemoryEventStore()
        let engine = try loadExample("counter.lua", store: store)
        for _ in 0..<12 { _ = try engine.execute(aggregate: "Counter", key: "c1", command: "increment") }
        _ = try engine.execute(aggregate: "Counter", key: "c2", command: "increment")
        let fingerprint = engine.domain.aggregate(named: "Counter")!.fingerprint
        let c1 = StreamID(aggregate: "Counter", key: "c1")
        #expect(try store.snapshot(of: c1)?.version == 10)
        try store.saveSnapshot(Snapshot(stream: c1, version: 11, state: #"{"count":99}"#, fingerprint: fingerprint))
        let c2 = StreamID(aggregate: "Counter", key: "c2")
        try store.saveSnapshot(Snapshot(stream: c2, version: 1, state: #"{"count":1}"#, fingerprint: "made-by-other-code"))
        var seen: [VerifyProblem] = []
        let report = try Verifier(domain: scriptsDirectory.appendingPathComponent("counter.lua").path, store: store)
            .run(onProblem: { seen.append($0) })
        #expect(report.problems == seen)
        #expect(report.problems == [VerifyProblem(kind: .wrongSnapshot, stream: c1, version: 11,
                                                  details: ["state.count: replay 11, snapshot 99"])])
        #expect(report.problems.first?.headline == "wrong snapshot: aggregate Counter, key c1, at version 11")
        #expect(report.snapshotsChecked == 1)
        #expect(report.snapshotsIgnored == 1)
        #expect(try store.snapshot(of: c1)?.state == #"{"count":99}"#) // verify never writes
    }

    @Test func aReplayThatKeepsModuleStateIsReported() throws {
        let path = try domainFile(Self.leaky)
        let store = InMemoryEventStore()
        let engine = try Engine(store: store)
        try engine.load(script: path)
        for key in ["k1", "k2"] {
            for _ in 0..<3 { _ = try engine.execute(aggregate: "Counter", key: key, command: "increment") }
        }
        let report = try Verifier(domain: path, store: store).run()
        #expect(report.problems.map(\.kind) == [.nondeterministic, .nondeterministic])
        #expect(report.problems.map(\.stream.key) == ["k1", "k2"])
        #expect(report.problems.first?.version == 3)
        #expect(report.problems.first?.details == ["state.replays: first replay 3, second replay 6"])
    }

    @Test func aReplayFailureAndUnknownAggregatesAreNamed() throws {
        let store = InMemoryEventStore()
        try store.append([NewEvent(type: "Exploded", data: "{}")], to: StreamID(aggregate: "Counter", key: "x"), expectedVersion: 0)
        try store.append([NewEvent(type: "Hello", data: "{}")], to: StreamID(aggregate: "Ghost", key: "g"), expectedVersion: 0)
        let report = try Verifier(domain: scriptsDirectory.appendingPathComponent("counter.lua").path, store: store).run()
        #expect(report.problems.map(\.kind) == [.replayFailed])
        #expect(report.problems.first?.details.first?.contains("Exploded") == true, "\(report.problems)")
        #expect(report.skipped == ["Ghost": 1])
        #expect(report.summary.contains("1 stream of unknown aggregates skipped: Ghost"))
    }
}
