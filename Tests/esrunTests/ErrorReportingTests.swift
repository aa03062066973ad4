import Foundation
import Testing

/// Every error kind: non-zero exit, one line on stderr naming file:line, nothing stored.
@Suite struct ErrorReportingTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        var driver: String
        var status: Int32
        var firstLine: String
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "fault", driver: "local C = require('counter')\nC('x'):increment{ by = 31 }\n", status: 3,
             firstLine: "esrun: drive.lua:2: fault: limit_reached: counter is at its limit"),
        Case(name: "conflict", driver: "local C = require('counter')\nC('x'):increment({}, { expected_version = 4 })\n", status: 4,
             firstLine: "esrun: drive.lua:2: conflict: conflict: Counter/x is at version 0, the command expected 4"),
        Case(name: "script", driver: "local C = require('counter')\nlocal t = nil\nprint(t.field)\n", status: 5,
             firstLine: "esrun: script: error: script drive.lua: drive.lua:3: attempt to index a nil value (local 't')"),
        Case(name: "syntax", driver: "local C = require('counter')\nif then\n", status: 5,
             firstLine: "esrun: script: syntax: drive.lua:2: unexpected symbol near 'then'"),
        Case(name: "forbidden", driver: "local C = require('counter')\nos.execute('touch pwned')\n", status: 7,
             firstLine: "esrun: forbidden: os.execute: script drive.lua (drive.lua:2): os.execute is not available in esrun scripts (they cannot touch files, processes or the network)"),
        Case(name: "invalid", driver: "local C = require('counter')\nC('x'):explode{}\n", status: 2,
             firstLine: "esrun: drive.lua:2: invalid: unknown_command: Counter has no command 'explode'"),
        Case(name: "limit", driver: "local H = require('hostile')\nH('x'):spin{}\n", status: 6,
             firstLine: "esrun: drive.lua:2: limit: time: handler Hostile.spin (hostile.lua:4): time limit of 1000 ms exceeded"),
    ]

    static let hostile = """
        local H = aggregate('Hostile')
        H:event('Done', {})
        H:event('Bad', { v = 'any' })
        function H.handle.spin() while true do end end
        function H.handle.eat() local t = {} for i = 1, 1e12 do t[i] = i end end
        function H.handle.escape() return io.open('/etc/passwd') end
        function H.handle.leak() leaked = true return H.Done{} end
        function H.handle.tamper() getmetatable('').upper = function() return 'pwned' end return H.Done{} end
        function H.handle.cyclic() local t = {} t.t = t return H.Bad{ v = t } end
        function H.handle.huge() return H.Bad{ v = ('x'):rep(20 * 1024 * 1024) } end
        function H.handle.many() local out, e = {}, H.Done{} for i = 1, 100001 do out[i] = e end return out end
        function H.handle.ok() return H.Done{} end
        function H.replay.Done() end
        function H.replay.Bad() end
        return H
        """

    @Test(arguments: cases)
    func errorKinds(c: Case) throws {
        let dir = try ESRunProcess.workspace()
        try Self.hostile.write(to: dir.appendingPathComponent("hostile.lua"), atomically: true, encoding: .utf8)
        try c.driver.write(to: dir.appendingPathComponent("drive.lua"), atomically: true, encoding: .utf8)
        let r = try ESRunProcess.run(["drive.lua"], in: dir)
        #expect(!r.timedOut)
        #expect(r.status == c.status, "\(r.stderr)")
        let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first == c.firstLine)
        for (domain, agg) in [("counter.lua", "Counter"), ("hostile.lua", "Hostile")] {
            let history = try ESRunProcess.run(["history", domain, agg, "x"], in: dir)
            #expect(history.stdout == "[]\n", "nothing stored: \(history.stdout)")
        }
    }

    @Test func aDriverCanCatchAFaultAndGoOn() throws {
        let dir = try ESRunProcess.workspace()
        let driver = """
            local C = require('counter')
            local ok, err = pcall(function() C('p'):increment{ by = 40 } end)
            print(ok, err.kind, err.code, tostring(err))
            C('p'):increment{ by = 2 }
            print('count', C('p').state.count)
            """
        try driver.write(to: dir.appendingPathComponent("drive.lua"), atomically: true, encoding: .utf8)
        let r = try ESRunProcess.run(["drive.lua", "--memory"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "false\tfault\tlimit_reached\tfault: limit_reached: counter is at its limit\ncount\t2\n")
    }

    @Test(arguments: [
        ("spin", 6, "time limit"), ("eat", 6, "memory limit"), ("escape", 7, "io.open is not available"),
        ("leak", 7, "writing global 'leaked' is not available in a command handler"),
        ("tamper", 7, "library tables are read-only"), ("cyclic", 2, "cyclic"), ("huge", 2, "JSON text larger than"),
        ("many", 2, "at most 100000 events"),
    ])
    func hostileHandlersThroughExec(command: String, status: Int32, message: String) throws {
        let dir = try ESRunProcess.workspace()
        try Self.hostile.write(to: dir.appendingPathComponent("hostile.lua"), atomically: true, encoding: .utf8)
        let r = try ESRunProcess.run(["exec", "hostile.lua", "Hostile", "x", command], in: dir, seconds: 30)
        #expect(!r.timedOut, "\(command) hung")
        #expect(r.status == status, "\(command): \(r.stderr)")
        let first = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(first.contains(message), "\(command): \(first)")
        #expect(first.contains("hostile.lua"), "names the file: \(first)")
        let ok = try ESRunProcess.run(["exec", "hostile.lua", "Hostile", "x", "ok"], in: dir)
        #expect(ok.status == 0)
        #expect(ok.stdout.hasPrefix(#"{"version":1,"#), "nothing was stored before: \(ok.stdout)")
    }

    @Test func malformedInputAndUnknownNames() throws {
        let dir = try ESRunProcess.workspace()
        for (args, status, text) in [
            (["exec", "counter.lua", "Counter", "x", "increment", "{by:1}"], Int32(2), "invalid JSON at byte 1"),
            (["exec", "counter.lua", "Nope", "x", "increment"], 2, "no aggregate named Nope"),
            (["exec", "missing.lua", "Counter", "x", "increment"], 5, "cannot open missing.lua"),
            (["state", "counter.lua", "Counter", "x", "--at", "3"], 2, "has version 0; there is no version 3"),
        ] {
            let r = try ESRunProcess.run(args, in: dir)
            #expect(r.status == status, "\(args): \(r.stderr)")
            #expect(r.stderr.contains(text), "\(args): \(r.stderr)")
        }
        try "not a database".write(to: dir.appendingPathComponent("text.db"), atomically: true, encoding: .utf8)
        let r = try ESRunProcess.run(["demo.lua", "--db", "text.db"], in: dir)
        // a file that is not an esrun database is a wrong argument (invalid), not a failing store
        #expect(r.status == 2, "\(r.stderr)")
        #expect(try String(contentsOf: dir.appendingPathComponent("text.db"), encoding: .utf8) == "not a database")
    }
}
