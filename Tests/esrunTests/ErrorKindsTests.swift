import Foundation
import LuaESCore
import Testing

/// One error of each kind reads the same at every edge: the HTTP status and body, the CLI's
/// exit code and line, the error value a driver script catches, and what the REPL prints,
/// all as `ErrorKind`'s one table says.
@Suite struct ErrorKindsTests {
    static let domain = """
        local K = aggregate("K", { initial = function() return { n = 0 } end })
        K:event("Done", {})
        function K.handle.ok() return K.Done{} end
        function K.handle.refuse() fault("nope", "not today") end
        function K.handle.crash() error("boom") end
        function K.handle.escape() return io.open("/etc/passwd") end
        function K.handle.bad() return K.Done{ extra = 1 } end
        function K.handle.eat() return K.Done{ big = ("x"):rep(1 << 30) } end
        function K.replay.Done(s) s.n = s.n + 1 end
        return K
        """

    struct Case: Sendable, CustomStringConvertible {
        var kind: ErrorKind
        var command: String
        var code: String
        /// Only for the conflict: the version the command expects.
        var expected: Int? = nil
        var description: String { kind.rawValue }
    }

    static let cases: [Case] = [
        Case(kind: .fault, command: "refuse", code: "nope"),
        Case(kind: .script, command: "crash", code: "error"),
        Case(kind: .forbidden, command: "escape", code: "io.open"),
        Case(kind: .invalid, command: "bad", code: "unknown_field"),
        Case(kind: .limit, command: "eat", code: "memory"),
        Case(kind: .notFound, command: "explode", code: "unknown_command"),
        Case(kind: .conflict, command: "ok", code: "conflict", expected: 5),
    ]

    func workspace() throws -> URL {
        let dir = try ESRunProcess.workspace()
        try Self.domain.write(to: dir.appendingPathComponent("kinds.lua"), atomically: true, encoding: .utf8)
        return dir
    }

    @Test(arguments: cases)
    func theCLIExitsWithTheKindsCode(_ c: Case) throws {
        let dir = try workspace()
        var arguments = ["exec", "kinds.lua", "K", "k", c.command, "--db", "kinds.db"]
        if let expected = c.expected { arguments += ["--expected-version", String(expected)] }
        let r = try ESRunProcess.run(arguments, in: dir)
        #expect(r.status == c.kind.exitCode, "\(r.stderr)")
        // `esrun: [where: ]kind: code: message`
        let line = r.stderr.split(separator: "\n").first.map(String.init) ?? ""
        #expect(line.hasPrefix("esrun: ") && line.contains(" \(c.kind.luaKind): \(c.code): "), "\(r.stderr)")
        let history = try ESRunProcess.run(["history", "kinds.lua", "K", "k", "--db", "kinds.db"], in: dir)
        #expect(!history.stdout.contains("Done"), "nothing was stored: \(history.stdout)")
    }

    @Test func aDriverScriptCatchesEachKind() throws {
        let dir = try workspace()
        var driver = "local K = require('kinds')\n"
        for c in Self.cases {
            let options = c.expected.map { ", { expected_version = \($0) }" } ?? ""
            driver += "do local ok, e = pcall(function() return K('k'):\(c.command)({}\(options)) end)\n"
                + "  print('\(c.command)', e.kind, e.code) end\n"
        }
        try driver.write(to: dir.appendingPathComponent("drive.lua"), atomically: true, encoding: .utf8)
        let r = try ESRunProcess.run(["drive.lua", "--memory"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        for c in Self.cases {
            #expect(lines.contains("\(c.command)\t\(c.kind.luaKind)\t\(c.code)"), "\(c.kind): \(r.stdout)")
        }
    }

    @Test func theREPLPrintsEachKind() throws {
        let dir = try workspace()
        var input = ""
        for c in Self.cases {
            let options = c.expected.map { ", { expected_version = \($0) }" } ?? ""
            input += "K('k'):\(c.command)({}\(options))\n"
        }
        let r = try ESRunProcess.run(["repl", "kinds.lua", "--memory"], in: dir, input: input, seconds: 30)
        for c in Self.cases {
            #expect(r.stdout.contains("\(c.kind.luaKind): \(c.code): "), "\(c.kind): \(r.stdout)")
        }
    }

    @Test func theServerAnswersWithTheKindsStatus() async throws {
        let dir = try workspace()
        let server = try ServerProcess(script: "kinds.lua", in: dir, arguments: ["--memory"])
        defer { server.stop() }
        for c in Self.cases {
            let headers = c.expected.map { ["If-Match": "\"\($0)\""] } ?? [:]
            let reply = try await server.post("/K/k/\(c.command)", "{}", headers: headers)
            #expect(reply.status == c.kind.httpStatus, "\(c.kind): \(reply.body)")
            let error = reply.json["error"] as? [String: Any]
            #expect(error?["kind"] as? String == c.kind.luaKind, "\(c.kind): \(reply.body)")
            #expect(error?["code"] as? String == c.code, "\(c.kind): \(reply.body)")
        }
        let state = try await server.get("/K/k")
        #expect(state.json["version"] as? Int == 0, "nothing was stored: \(state.body)")
    }
}
