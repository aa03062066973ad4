import Foundation
import LuaES
import LuaESCore
import LuaESTools
import LuaESStore
import LuaESScripting
import Testing

/// `esrun projection` through the built binary: queries, bad input, and kill -9 during catch-up.
@Suite("esrun projection", .serialized) struct ProjectionCommandTests {
    static let fill = """
        local Account = require("bank")
        local owners = { "alice", "bob", "carol", "dave" }
        for i = 1, 200 do Account("a" .. i):open{ owner = owners[i % 4 + 1] } end
        for i = 1, 4000 do
          local a = Account("a" .. (i * 7919 % 200 + 1))
          pcall(function() a:deposit{ amount = i % 97 + 1 } end)
          if i % 3 == 0 then pcall(function() a:withdraw{ amount = i % 50 + 1 } end) end
          if i % 997 == 0 then pcall(function() a:close{} end) end
        end
        """

    /// Balances per owner recomputed from every stored event.
    static func recompute(_ path: String) throws -> [String: [String: Int]] {
        let store = try SQLiteEventStore(path: path)
        defer { try? store.close() }
        var owners: [String: String] = [:]
        var out: [String: [String: Int]] = [:]
        for e in try store.events(after: 0, limit: Int.max) {
            let data = try JSONSerialization.jsonObject(with: Data(e.data.utf8)) as? [String: Any] ?? [:]
            if e.type == "Opened" { owners[e.stream.key] = data["owner"] as? String }
            let owner = "owner:" + (owners[e.stream.key] ?? "?")
            var doc = out[owner] ?? ["balance": 0, "accounts": 0]
            switch e.type {
            case "Opened": doc["accounts"]! += 1
            case "Deposited": doc["balance"]! += data["amount"] as? Int ?? 0
            case "Withdrawn": doc["balance"]! -= data["amount"] as? Int ?? 0
            case "Closed": doc["accounts"]! -= 1
            default: break
            }
            out[owner] = doc
        }
        return out
    }

    static func position(_ path: String) throws -> Int64 {
        let store = try SQLiteEventStore(path: path)
        defer { try? store.close() }
        return try store.projectionGenerations(named: "Balances").first?.position ?? 0
    }

    @Test func answersKeysPrefixesAndStatus() throws {
        let dir = try ESRunProcess.workspace()
        for (key, command, args) in [("a1", "open", #"{"owner":"ann"}"#), ("a2", "open", #"{"owner":"ann","overdraft":10}"#),
                                     ("a1", "deposit", #"{"amount":40}"#), ("a2", "withdraw", #"{"amount":5}"#)] {
            #expect(try ESRunProcess.run(["exec", "bank.lua", "Account", key, command, args], in: dir).status == 0)
        }
        let doc = try ESRunProcess.run(["projection", "bank.lua", "Balances", "owner:ann"], in: dir)
        #expect(doc.status == 0, "\(doc.stderr)")
        #expect(doc.stdout == #"{"accounts":2,"balance":35}"# + "\n")
        let list = try ESRunProcess.run(["projection", "bank.lua", "Balances", "--prefix", "account:", "--limit", "1"], in: dir)
        #expect(list.stdout == #"[{"key":"account:a1","document":{"owner":"ann"}}]"# + "\n")
        let next = try ESRunProcess.run(["projection", "bank.lua", "Balances", "--prefix", "account:", "--after", "account:a1"], in: dir)
        #expect(next.stdout == #"[{"key":"account:a2","document":{"owner":"ann"}}]"# + "\n")
        let missing = try ESRunProcess.run(["projection", "bank.lua", "Balances", "owner:nobody"], in: dir)
        #expect(missing.status == 0 && missing.stdout == "null\n")
        let status = try ESRunProcess.run(["projection", "bank.lua"], in: dir)
        #expect(status.stdout.contains(#""name":"Balances","state":"live","generation":1,"position":4,"head":4,"lag":0"#), "\(status.stdout)")
        let check = try ESRunProcess.run(["check", "bank.lua"], in: dir)
        #expect(check.stdout.contains("status:      live at 4 of 4 (lag 0, generation 1)"), "\(check.stdout)")
    }

    @Test func rebuildsAndDrops() throws {
        let dir = try ESRunProcess.workspace()
        #expect(try ESRunProcess.run(["exec", "bank.lua", "Account", "a", "open", #"{"owner":"x"}"#], in: dir).status == 0)
        #expect(try ESRunProcess.run(["projection", "bank.lua", "Balances", "owner:x"], in: dir).stdout == #"{"accounts":1,"balance":0}"# + "\n")
        let rebuilt = try ESRunProcess.run(["projection", "bank.lua", "Balances", "--rebuild"], in: dir)
        #expect(rebuilt.status == 0 && rebuilt.stdout.contains(#""state":"live","generation":2"#), "\(rebuilt.stdout)\(rebuilt.stderr)")
        let refused = try ESRunProcess.run(["projection", "bank.lua", "Balances", "--drop"], in: dir)
        #expect(refused.status == 2 && refused.stderr.contains("still defines projection Balances"))
        let dropped = try ESRunProcess.run(["projection", "counter.lua", "Balances", "--drop"], in: dir)
        #expect(dropped.stdout == #"{"dropped":"Balances","generations":1,"documents":2}"# + "\n", "\(dropped.stderr)")
        let bad = try ESRunProcess.run(["projection", "bank.lua", "Balances", "k", "--rebuild"], in: dir)
        #expect(bad.status == 2 && bad.stderr.contains("take a projection NAME and nothing else"), "\(bad.stderr)")
    }

    @Test func badInputIsRefusedClearly() throws {
        let dir = try ESRunProcess.workspace()
        let unknown = try ESRunProcess.run(["projection", "bank.lua", "Nope"], in: dir)
        #expect(unknown.status == 2)
        #expect(unknown.stderr.contains("no projection named Nope (it has: Balances)"), "\(unknown.stderr)")
        let both = try ESRunProcess.run(["projection", "bank.lua", "Balances", "k", "--prefix", "p"], in: dir)
        #expect(both.status == 2 && both.stderr.contains("not both"), "\(both.stderr)")
        let unbuilt = try ESRunProcess.run(["projection", "bank.lua", "Balances", "k", "--no-catch-up"], in: dir)
        #expect(unbuilt.status == 2 && unbuilt.stderr.contains("has no views yet"), "\(unbuilt.stderr)")
    }

    @Test func aFailingHandlerIsReportedWithItsEvent() throws {
        let dir = try ESRunProcess.workspace()
        try """
            local Account = require("bank")
            projection("Strict", { on = { Deposited = function(view, ev)
              if ev.amount > 100 then error("deposit too large for this report") end
              view:update("n", function(d) d = d or { n = 0 }; d.n = d.n + 1; return d end)
            end } })
            return Account
            """.write(to: dir.appendingPathComponent("strict.lua"), atomically: true, encoding: .utf8)
        #expect(try ESRunProcess.run(["exec", "strict.lua", "Account", "a", "open", #"{"owner":"x"}"#], in: dir).status == 0)
        #expect(try ESRunProcess.run(["exec", "strict.lua", "Account", "a", "deposit", #"{"amount":5}"#], in: dir).status == 0)
        #expect(try ESRunProcess.run(["exec", "strict.lua", "Account", "a", "deposit", #"{"amount":500}"#], in: dir).status == 0)
        let failed = try ESRunProcess.run(["projection", "strict.lua", "Strict", "n"], in: dir)
        #expect(failed.stdout == #"{"n":1}"# + "\n", "the events before the failing one count")
        #expect(failed.status == 5)
        #expect(failed.stderr.contains("projection Strict stopped at position 3 (Account/a version 3, Deposited)"), "\(failed.stderr)")
        #expect(failed.stderr.contains("strict.lua:3: deposit too large"), "\(failed.stderr)")
        // the other projection of the script is unaffected
        let balances = try ESRunProcess.run(["projection", "strict.lua", "Balances", "owner:x"], in: dir)
        #expect(balances.status == 0 && balances.stdout == #"{"accounts":1,"balance":505}"# + "\n", "\(balances.stderr)")
    }

    @Test func killedDuringCatchUpItResumesWithoutCountingTwice() throws {
        let dir = try ESRunProcess.workspace()
        try Self.fill.write(to: dir.appendingPathComponent("fill.lua"), atomically: true, encoding: .utf8)
        let filled = try ESRunProcess.run(["run", "fill.lua", "--db", "kill.db"], in: dir, seconds: 300)
        #expect(filled.status == 0, "\(filled.stderr)")
        let path = dir.appendingPathComponent("kill.db").path
        let head = try SQLiteEventStore(path: path).headPosition()
        var midway = 0
        for round in 1...12 {
            let process = Process()
            process.executableURL = ESRunProcess.binary
            process.arguments = ["projection", "bank.lua", "Balances", "owner:alice", "--db", "kill.db", "--page-size", "3"]
            process.currentDirectoryURL = dir
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            let before = try Self.position(path)
            try process.run()
            // kill once the catch-up has visibly moved (however slow the machine is to start it), a little later
            let deadline = Date().addingTimeInterval(20)
            while process.isRunning, Date() < deadline, try Self.position(path) == before { usleep(5_000) }
            usleep(UInt32.random(in: 0...40_000) + UInt32(round) * 2_000)
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            let reached = try Self.position(path)
            if reached > 0 && reached < head { midway += 1 }
        }
        let last = try ESRunProcess.run(["projection", "bank.lua", "Balances", "--prefix", "owner:", "--db", "kill.db"], in: dir)
        #expect(last.status == 0, "\(last.stderr)")
        let listed = try JSONSerialization.jsonObject(with: Data(last.stdout.utf8)) as? [[String: Any]] ?? []
        var stored: [String: [String: Int]] = [:]
        for item in listed { stored[item["key"] as? String ?? ""] = item["document"] as? [String: Int] }
        let expected = try Self.recompute(path)
        #expect(expected.count == 4)
        #expect(stored == expected, "views after \(midway) kills mid-catch-up differ from the history")
        print("midway kills: \(midway) of 12, head \(head)")
        #expect(midway > 0, "no kill landed during the catch-up (head \(head))")
        #expect(try Self.position(path) == head)
    }
}
