import Foundation
import LuaES
import LuaESCore
import LuaESTools
import LuaESStore
import LuaESScripting
import Testing
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `esrun test` and `esrun verify` through the built binary.
@Suite struct TestAndVerifyCommandTests {
    @Test func theExampleSpecsPass() throws {
        let dir = try ESRunProcess.workspace()
        for domain in ["counter.lua", "bank.lua", "orders.lua"] {
            let r = try ESRunProcess.run(["test", domain], in: dir)
            #expect(r.status == 0, "\(domain): \(r.stdout)\(r.stderr)")
            let lines = r.stdout.split(separator: "\n")
            #expect(lines.dropLast().allSatisfy { $0.hasPrefix("ok   ") }, "\(r.stdout)")
            #expect(lines.count > 5)
            #expect(lines.last == "\(lines.count - 1) passed, 0 failed", "\(r.stdout)")
        }
        let json = try ESRunProcess.run(["test", "counter.lua", "counter.spec.json"], in: dir)
        #expect(json.stdout.hasSuffix("3 passed, 0 failed\n"), "\(json.stdout)")
    }

    @Test func failuresPrintADiffTheSummaryAndExitOne() throws {
        let dir = try ESRunProcess.workspace()
        try """
            local Counter = require("counter")
            scenario("passes", { aggregate = Counter, when = "increment", expect_state = { count = 1 } })
            scenario("wrong state", { aggregate = Counter, when = "increment", expect_state = { count = 2 } })
            scenario("wrong fault", { aggregate = Counter, when = { "increment", { by = 0 } }, expect_fault = "limit_reached" })
            """.write(to: dir.appendingPathComponent("bad.spec.lua"), atomically: true, encoding: .utf8)
        let r = try ESRunProcess.run(["test", "counter.lua", "bad.spec.lua", "--junit", "report.xml"], in: dir)
        #expect(r.status == 1)
        #expect(r.stdout == """
            ok   bad: passes
            FAIL bad: wrong state  (bad.spec.lua:3)
                   state.count: expected 2, got 1
            FAIL bad: wrong fault  (bad.spec.lua:4)
                   expected fault limit_reached, got fault: bad_amount: increment by a positive integer
            1 passed, 2 failed

            """, "\(r.stdout)")
        let xml = try Data(contentsOf: dir.appendingPathComponent("report.xml"))
        #expect(String(decoding: xml, as: UTF8.self).contains(#"<testsuite name="bad.spec.lua" tests="3" failures="2""#))
        #if canImport(FoundationXML)
        #expect(XMLParser(data: xml).parse())
        #endif
    }

    @Test func noSpecsIsAnErrorAndHelpIsThere() throws {
        let dir = try ESRunProcess.workspace()
        for sub in ["test", "verify"] {
            let help = try ESRunProcess.run([sub, "--help"], in: dir)
            #expect(help.status == 0 && help.stdout.contains("USAGE"), "\(sub)")
        }
        let r = try ESRunProcess.run(["test", "demo.lua"], in: dir)
        #expect(r.status == 2)
        #expect(r.stderr.contains("no spec files"), "\(r.stderr)")
    }

    @Test func verifyReportsAWrongSnapshotAndModuleLevelReplayState() throws {
        let dir = try ESRunProcess.workspace()
        try """
            local Counter = aggregate("Counter", { snapshot_every = 5, initial = function() return { count = 0 } end })
            Counter:event("Incremented", { by = "integer" })
            local replays = 0
            function Counter.handle.increment(state, cmd) return Counter.Incremented{ by = cmd.by or 1 } end
            function Counter.replay.Incremented(state, ev)
              replays = replays + 1
              state.count = state.count + ev.by
              state.replays = replays
            end
            return Counter
            """.write(to: dir.appendingPathComponent("leaky.lua"), atomically: true, encoding: .utf8)
        for _ in 0..<10 { try ESRunProcess.run(["exec", "counter.lua", "Counter", "good", "increment"], in: dir) }
        for _ in 0..<2 { try ESRunProcess.run(["exec", "leaky.lua", "Counter", "leaky", "increment"], in: dir) }
        let clean = try ESRunProcess.run(["verify", "counter.lua"], in: dir)
        #expect(clean.status == 0, "\(clean.stdout)\(clean.stderr)")
        #expect(clean.stdout.hasPrefix("2 streams verified, 0 problems (1 snapshot checked)"), "\(clean.stdout)")

        // plant a wrong snapshot with the right fingerprint, through the store API
        let check = try ESRunProcess.run(["check", "counter.lua", "--format", "json"], in: dir)
        let info = try JSONDecoder().decode([AggregateInfo].self, from: Data(check.stdout.utf8))
        let store = try SQLiteEventStore(path: dir.appendingPathComponent("esrun.db").path)
        try store.saveSnapshot(Snapshot(stream: StreamID(aggregate: "Counter", key: "good"), version: 10,
                                        state: #"{"count":60}"#, fingerprint: info[0].fingerprint))
        try store.close()

        let wrong = try ESRunProcess.run(["verify", "counter.lua", "--db", "esrun.db"], in: dir)
        #expect(wrong.status == 1)
        #expect(wrong.stdout.contains("""
            MISMATCH wrong snapshot: aggregate Counter, key good, at version 10
                state.count: replay 10, snapshot 60
            """), "\(wrong.stdout)")
        #expect(wrong.stdout.hasSuffix("2 streams verified, 1 problem (1 snapshot checked)\n"), "\(wrong.stdout)")

        let leaky = try ESRunProcess.run(["verify", "leaky.lua"], in: dir)
        #expect(leaky.status == 1)
        #expect(leaky.stdout.contains("MISMATCH replays disagree: aggregate Counter, key good, at version 10"), "\(leaky.stdout)")
        #expect(leaky.stdout.contains("MISMATCH replays disagree: aggregate Counter, key leaky, at version 2"))
        #expect(leaky.stdout.contains("state.replays: first replay"))
        let warned = try ESRunProcess.run(["check", "leaky.lua"], in: dir)
        #expect(warned.stdout.contains("warning: replay of Counter.Incremented (leaky.lua:5) assigns to the upvalue 'replays'"),
                "\(warned.stdout)")
    }

    @Test func verifyReportsProgressWithoutATerminal() throws {
        let dir = try ESRunProcess.workspace()
        for key in ["a", "b", "c"] { try ESRunProcess.run(["exec", "counter.lua", "Counter", key, "increment"], in: dir) }
        let r = try ESRunProcess.run(["verify", "counter.lua", "--progress-every", "2"], in: dir)
        #expect(r.status == 0)
        #expect(r.stderr == "verified 2/3 streams\nverified 3/3 streams\n", "\(r.stderr)")
    }
}
