import Foundation
import Testing

/// The example scripts and the CLI's forms, run through the built binary.
@Suite struct ExampleScriptTests {
    @Test func theDemoRunsAndStateIsKeptAcrossRuns() throws {
        let dir = try ESRunProcess.workspace()
        let first = try ESRunProcess.run(["demo.lua"], in: dir)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("counter 'demo' went from version 0 to 3, count = 15"), "\(first.stdout)")
        #expect(first.stdout.contains("overdraft rule: insufficient_funds"))
        #expect(first.stdout.contains("placed: total 900 cents"))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("esrun.db").path))
        let second = try ESRunProcess.run(["run", "demo.lua", "--db", "esrun.db"], in: dir)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout.contains("counter 'demo' went from version 3 to 6, count = 30"), "\(second.stdout)")
        let state = try ESRunProcess.run(["state", "counter.lua", "Counter", "demo"], in: dir)
        #expect(state.stdout == #"{"version":6,"state":{"count":30}}"# + "\n")
        let table = try ESRunProcess.run(["state", "counter.lua", "Counter", "demo", "--at", "2", "--format", "table"], in: dir)
        #expect(table.stdout.contains("count    10"), "\(table.stdout)")
    }

    @Test func memoryLeavesNoFile() throws {
        let dir = try ESRunProcess.workspace()
        let r = try ESRunProcess.run(["demo.lua", "--memory"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        #expect(!files.contains { $0.hasPrefix("esrun.db") }, "\(files)")
    }

    @Test func execStateHistoryAndCheckOnEveryDomain() throws {
        let dir = try ESRunProcess.workspace()
        let exec = try ESRunProcess.run(["exec", "bank.lua", "Account", "a1", "open", #"{"owner":"ada"}"#], in: dir)
        #expect(exec.status == 0, "\(exec.stderr)")
        #expect(exec.stdout.hasPrefix(#"{"version":1,"events":[{"aggregate":"Account","key":"a1","type":"Opened","version":1"#), "\(exec.stdout)")
        #expect(exec.stdout.hasSuffix(#""state":{"balance":0,"closed":false,"open":true,"overdraft":0,"owner":"ada"}}"# + "\n"))
        _ = try ESRunProcess.run(["exec", "bank.lua", "Account", "a1", "deposit", #"{"amount":500}"#], in: dir)
        let history = try ESRunProcess.run(["history", "bank.lua", "Account", "a1", "--format", "table"], in: dir)
        #expect(history.stdout.contains("Deposited"), "\(history.stdout)")
        #expect(history.stdout.split(separator: "\n").count == 3)
        let order = try ESRunProcess.run(["exec", "orders.lua", "Order", "o1", "add_line", #"{"sku":"tea","qty":2,"price":450}"#], in: dir)
        #expect(order.stdout.contains(#""total":900"#), "\(order.stdout) \(order.stderr)")
        for domain in ["counter.lua", "bank.lua", "orders.lua"] {
            let check = try ESRunProcess.run(["check", domain], in: dir)
            #expect(check.status == 0, "\(domain): \(check.stderr)")
            #expect(check.stdout.hasPrefix("aggregate "), "\(check.stdout)")
        }
        let json = try ESRunProcess.run(["check", "counter.lua", "--format", "json"], in: dir)
        #expect(json.stdout.contains(#""snapshot_every" : 10"#), "\(json.stdout)")
    }

    @Test func versionHelpAndLogLevel() throws {
        let dir = try ESRunProcess.workspace()
        #expect(try ESRunProcess.run(["--version"], in: dir).stdout == "0.1.0\n")
        for sub in ["run", "exec", "state", "history", "check"] {
            let help = try ESRunProcess.run([sub, "--help"], in: dir)
            #expect(help.status == 0 && help.stdout.contains("USAGE"), "\(sub)")
        }
        let bad = try ESRunProcess.run(["demo.lua", "--log-level", "loud"], in: dir)
        #expect(bad.status == 2, "a usage error is invalid input: \(bad.stderr)")
        #expect(bad.stderr.contains("unknown log level"))
    }
}
