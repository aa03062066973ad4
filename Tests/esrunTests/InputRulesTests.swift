import Foundation
import LuaESCore
import Testing
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Bad input at every edge (HTTP, the CLI, driver scripts): each is refused as `invalid`
/// with the rule's code and the table's status or exit code, and the store is unchanged
/// byte for byte (the whole feed is read before and after).
@Suite struct InputRulesTests {
    static let long = String(repeating: "k", count: 513)

    /// (path and query, body, code)
    static let http: [(String, [UInt8]?, String)] = [
        ("/Counter/\(long)/increment", nil, "bad_key"),
        ("/Counter/a%00b/increment", nil, "bad_key"),
        ("/Counter/a%09b/increment", nil, "bad_key"),
        ("/Counter/a%FFb/increment", nil, "bad_path"),
        ("/Counter/a%EF%BF%BDb/increment", nil, "bad_key"),
        ("/Coun%20ter/k/increment", nil, "bad_name"),
        ("/Counter/k/inc%00rement", nil, "bad_name"),
        ("/Counter/k/increment", Array(#"{"s":"a"#.utf8) + [0xFF, 0xFE] + Array(#"b"}"#.utf8), "bad_body"),
        ("/Counter/k/increment", Array("[1,2]".utf8), "bad_body"),
        ("/Counter/k/increment", Array(#""text""#.utf8), "bad_body"),
        ("/events?after=-1", nil, "bad_cursor"),
        ("/events?after=x", nil, "bad_cursor"),
        ("/events?after=%FF", nil, "bad_cursor"),
        ("/events?limit=0", nil, "bad_limit"),
        ("/events?limit=10001", nil, "bad_limit"),
        ("/events?limit=-5", nil, "bad_limit"),
        ("/Counter/k/events?after=-1", nil, "bad_cursor"),
        ("/Counter/k/events?limit=0", nil, "bad_limit"),
        ("/Counter/a%01b/events", nil, "bad_key"),
        ("/Counter/k?at=-1", nil, "bad_version"),
        ("/Counter/k?at=x", nil, "bad_version"),
    ]

    /// (arguments, code); raw bytes so an argument can hold what is not UTF-8
    static let cli: [([[UInt8]], String)] = [
        ([b("exec"), b("counter.lua"), b("Counter"), b(""), b("increment")], "bad_key"),
        ([b("exec"), b("counter.lua"), b("Counter"), b(long), b("increment")], "bad_key"),
        ([b("exec"), b("counter.lua"), b("Counter"), b("a\tb"), b("increment")], "bad_key"),
        ([b("exec"), b("counter.lua"), b("Counter"), [0x61, 0xFF, 0x62], b("increment")], "bad_utf8"),
        ([b("exec"), b("counter.lua"), b("Coun ter"), b("k"), b("increment")], "bad_name"),
        ([b("exec"), b("counter.lua"), b("Counter"), b("k"), b("inc-rement")], "bad_name"),
        ([b("exec"), b("counter.lua"), b("Counter"), b("k"), b("increment"), b("[1,2]")], "bad_body"),
        ([b("exec"), b("counter.lua"), b("Counter"), b("k"), b("increment"), Array(#"{"s":"a"#.utf8) + [0xFF] + b(#""}"#)], "bad_utf8"),
        ([b("exec"), b("counter.lua"), b("Counter"), b("k"), b("increment"), b("--expected-version"), b("-1")], "bad_cursor"),
        ([b("state"), b("counter.lua"), b("Counter"), b("a\u{1}b")], "bad_key"),
        ([b("state"), b("counter.lua"), b("Counter"), b("k"), b("--at"), b("-1")], "bad_version"),
        ([b("history"), b("counter.lua"), b("Counter"), b(long)], "bad_key"),
        ([b("tail"), b("--after"), b("-1")], "bad_cursor"),
        ([b("projection"), b("bank.lua"), b("Balances"), b("--limit"), b("0")], "bad_limit"),
        ([b("projection"), b("bank.lua"), b("Balances"), b("a\nb")], "bad_key"),
    ]

    /// (a driver's expression, code)
    static let driver: [(String, String)] = [
        ("C(''):increment{}", "bad_key"),
        ("C('a\\0b'):increment{}", "bad_key"),
        ("C(string.rep('k', 513)):increment{}", "bad_key"),
        ("C('a\\tb'):increment{}", "bad_key"),
        ("C('k'):increment({ 1, 2 })", "bad_body"),
        ("C('a\\1b').state", "bad_key"),
        ("C('a\\1b').version", "bad_key"),
        ("state(C, 'k', -1)", "bad_version"),
        ("history(C, 'a\\0')", "bad_key"),
    ]

    static func b(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// The whole feed as the CLI prints it: the bytes that must not change.
    func feed(_ dir: URL) throws -> String {
        let r = try ESRunProcess.run(["tail", "--db", "rules.db"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    func seeded() throws -> URL {
        let dir = try ESRunProcess.workspace()
        let seed = try ESRunProcess.run(["exec", "counter.lua", "Counter", "k", "increment", "--db", "rules.db"], in: dir)
        #expect(seed.status == 0, "\(seed.stderr)")
        return dir
    }

    @Test func theServerRefusesBadInputAndStoresNothing() async throws {
        let dir = try seeded()
        let before = try feed(dir)
        let server = try ServerProcess(script: "counter.lua", in: dir, arguments: ["--db", "rules.db"])
        for (path, body, code) in Self.http {
            let reply = try await Self.send(port: server.port, path: path, body: body)
            #expect(reply.status == ErrorKind.invalid.httpStatus, "\(path): \(reply.status) \(reply.body)")
            let error = (try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any])?["error"] as? [String: Any]
            #expect(error?["kind"] as? String == "invalid", "\(path): \(reply.body)")
            #expect(error?["code"] as? String == code, "\(path): \(reply.body)")
        }
        #expect(server.stop() == 0)
        #expect(try feed(dir) == before, "the store changed")
    }

    @Test func theCLIRefusesBadInputAndStoresNothing() throws {
        let dir = try seeded()
        let before = try feed(dir)
        for (arguments, code) in Self.cli {
            let r = try Self.run(arguments + [Self.b("--db"), Self.b("rules.db")], in: dir)
            let shown = arguments.map { String(decoding: $0, as: UTF8.self) }
            #expect(r.status == ErrorKind.invalid.exitCode, "\(shown): \(r.stderr)")
            #expect(r.stderr.contains("invalid: \(code): "), "\(shown): \(r.stderr)")
        }
        #expect(try feed(dir) == before, "the store changed")
    }

    @Test func aDriverScriptCatchesEachRefusal() throws {
        let dir = try seeded()
        let before = try feed(dir)
        var script = "local C = require('counter')\n"
        for (expression, _) in Self.driver {
            script += "do local ok, e = pcall(function() return \(expression) end) print(ok, e and e.kind, e and e.code) end\n"
        }
        try script.write(to: dir.appendingPathComponent("drive.lua"), atomically: true, encoding: .utf8)
        let r = try ESRunProcess.run(["drive.lua", "--db", "rules.db"], in: dir)
        #expect(r.status == 0, "\(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == Self.driver.count, "\(r.stdout)")
        for ((expression, code), line) in zip(Self.driver, lines) {
            #expect(line == "false\tinvalid\t\(code)", "\(expression): \(line)")
        }
        #expect(try feed(dir) == before, "the store changed")
    }

    /// An HTTP request with the exact path and body bytes given (no client-side normalisation).
    static func send(port: Int, path: String, body: [UInt8]?) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)" + path)!)
        request.httpMethod = path.hasSuffix("rement") ? "POST" : "GET" // the command routes end in (inc)rement
        if let body { request.httpBody = Data(body) }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// Runs esrun with arguments given as bytes (Process takes Strings): through bash, each
    /// argument written byte by byte as a `$'\xHH'` word.
    static func run(_ arguments: [[UInt8]], in dir: URL) throws -> ESRunProcess.Outcome {
        let words = arguments.map { bytes in "$'" + bytes.map { String(format: "\\x%02x", $0) }.joined() + "'" }
        let script = "exec '\(ESRunProcess.binary.path)' " + words.joined(separator: " ")
        return try ESRunProcess.run(["-c", script], in: dir, executable: URL(fileURLWithPath: "/bin/bash"))
    }
}
