import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// Every forbidden call in every phase, with the message naming it and where it happened.
@Suite struct SandboxTests {
    /// Probes: each a one-line function body; the line number is 2 + its index.
    static let probes: [(name: String, code: String)] = [
        ("os.time", "local r = os.time() return r"),
        ("os.clock", "local r = os.clock() return r"),
        ("os.getenv", "local r = os.getenv('HOME') return r"),
        ("os.execute", "local r = os.execute('true') return r"),
        ("os.exit", "local r = os.exit(1) return r"),
        ("os.remove", "local r = os.remove('/tmp/x') return r"),
        ("io.open", "local r = io.open('/etc/passwd') return r"),
        ("io.popen", "local r = io.popen('ls') return r"),
        ("io.write", "local r = io.write('x') return r"),
        ("io.read", "local r = io.read() return r"),
        ("io.lines", "local r = io.lines('/etc/passwd') return r"),
        ("print", "print('x')"),
        ("math.random", "local r = math.random() return r"),
        ("math.randomseed", "local r = math.randomseed(1) return r"),
        ("load", "local r = load('return 1') return r"),
        ("loadstring", "local r = loadstring('return 1') return r"),
        ("dofile", "local r = dofile('/etc/passwd') return r"),
        ("loadfile", "local r = loadfile('/etc/passwd') return r"),
        ("debug", "local r = debug.getinfo(1) return r"),
        ("package", "local r = package.loaded return r"),
        ("collectgarbage", "local r = collectgarbage('count') return r"),
        ("string.dump", "local r = string.dump(function() end) return r"),
        ("require", "local r = require('helper') return r"),
        ("aggregate", "local r = aggregate('Other' .. tostring(#probes)) return r"),
        ("writing global 'leak'", "leak = 1"),
    ]

    static func domain(topLevel: String = "") -> String {
        var lines = ["local probes = {}"]
        for p in probes { lines.append("probes[\"\(p.name)\"] = function() \(p.code) end") }
        lines += [
            topLevel,
            "local Probe = aggregate('Probe')",
            "Probe:event('Tried', { what = 'string', replay = 'boolean' })",
            "function Probe.handle.try(state, cmd) probes[cmd.what]() return Probe.Tried{ what = cmd.what, replay = false } end",
            "function Probe.handle.replay(state, cmd) return Probe.Tried{ what = cmd.what, replay = true } end",
            "function Probe.replay.Tried(state, ev) if ev.replay then probes[ev.what]() end end",
            "return Probe",
        ]
        return lines.joined(separator: "\n")
    }

    static func line(of name: String) -> Int { 2 + probes.firstIndex { $0.name == name }! }

    static let alwaysForbidden: Set<String> = [
        "os.execute", "os.exit", "os.remove", "io.open", "io.popen", "io.lines", "math.random", "math.randomseed",
        "load", "loadstring", "dofile", "loadfile", "debug", "package", "collectgarbage", "string.dump",
    ]

    @Test(arguments: probes.map(\.name))
    func forbiddenInHandlers(name: String) throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine(Self.domain(), store: store, files: ["helper.lua": "return {}"])
        let error = engineError {
            _ = try engine.execute(aggregate: "Probe", key: "k", command: "try", args: #"{"what":"\#(name)"}"#)
        }
        #expect(error?.kind == .forbidden, "\(name): \(String(describing: error))")
        let message = error?.message ?? ""
        #expect(message.hasPrefix("handler Probe.try (domain.lua:\(Self.line(of: name))): \(name) is not available"), "\(message)")
        #expect(try store.version(of: StreamID(aggregate: "Probe", key: "k")) == 0)
    }

    @Test(arguments: probes.map(\.name))
    func forbiddenInReplay(name: String) throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine(Self.domain(), store: store, files: ["helper.lua": "return {}"])
        let error = engineError {
            _ = try engine.execute(aggregate: "Probe", key: "k", command: "replay", args: #"{"what":"\#(name)"}"#)
        }
        #expect(error?.kind == .forbidden, "\(name): \(String(describing: error))")
        let message = error?.message ?? ""
        #expect(message.hasPrefix("replay of Probe.Tried (domain.lua:\(Self.line(of: name))): \(name) is not available"), "\(message)")
        if !Self.alwaysForbidden.contains(name) { #expect(message.hasSuffix("during replay"), "\(message)") }
        #expect(try store.version(of: StreamID(aggregate: "Probe", key: "k")) == 0, "a failing replay stores nothing")
    }

    @Test(arguments: probes.map(\.name))
    func loadPhase(name: String) throws {
        let allowed: Set<String> = ["print", "require", "aggregate", "writing global 'leak'"]
        let error = engineError {
            _ = try makeEngine(Self.domain(topLevel: "probes[\"\(name)\"]()"), files: ["helper.lua": "return {}"])
        }
        if allowed.contains(name) {
            #expect(error == nil, "\(name) is allowed at load: \(String(describing: error))")
        } else {
            #expect(error?.kind == .forbidden, "\(name): \(String(describing: error))")
            #expect(error?.message.hasPrefix("loading domain.lua (domain.lua:\(Self.line(of: name))): \(name) is not available") == true,
                    "\(String(describing: error))")
        }
    }

    @Test(arguments: probes.map(\.name))
    func hostPhase(name: String) throws {
        let allowed: Set<String> = ["os.time", "os.clock", "os.getenv", "io.write", "print", "require", "aggregate",
                                    "writing global 'leak'", "io.read"]
        let dir = temporaryDirectory()
        try "return {}".write(to: dir.appendingPathComponent("helper.lua"), atomically: true, encoding: .utf8)
        let driver = Self.domain(topLevel: "if [[\(name)]] ~= 'io.read' then probes[ [[\(name)]] ]() end")
        let path = dir.appendingPathComponent("drive.lua").path
        try driver.write(toFile: path, atomically: true, encoding: .utf8)
        let engine = try Engine(store: InMemoryEventStore())
        let error = engineError { try engine.run(script: path, display: "drive.lua") }
        if allowed.contains(name) {
            #expect(error == nil, "\(name) is allowed in drivers: \(String(describing: error))")
        } else {
            #expect(error?.kind == .forbidden, "\(name): \(String(describing: error))")
            #expect(error?.message.hasPrefix("script drive.lua (drive.lua:\(Self.line(of: name))): \(name) is not available") == true,
                    "\(error?.message ?? "")")
        }
    }

    @Test func libraryTablesAndTheStringMetatableAreReadOnly() throws {
        let attempts = [
            ("string.upper = function() return 'x' end", "read_only", "cannot change string.upper: library tables are read-only"),
            ("rawset(string, 'upper', function() return 'x' end)", "read_only", "cannot change a read-only table"),
            ("getmetatable('').__index = {}", "read_only", "cannot change string.__index: library tables are read-only"),
            ("setmetatable(string, {})", "read_only", "cannot change a protected metatable"),
            ("table.insert = nil", "read_only", "cannot change table.insert: library tables are read-only"),
            ("math.pi = 3", "read_only", "cannot change math.pi: library tables are read-only"),
            ("setmetatable({}, { __gc = function() end })", "__gc", "__gc metamethods are not available in esrun scripts"),
        ]
        for (attempt, code, message) in attempts {
            let error = engineError { _ = try makeEngine(attempt) }
            #expect(error?.kind == .forbidden, "\(attempt): \(String(describing: error))")
            #expect(error?.code == ErrorCode(code), "\(attempt): \(String(describing: error))")
            #expect(error?.message == "loading domain.lua (domain.lua:1): " + message, "\(attempt): \(String(describing: error))")
        }
        let engine = try makeEngine("""
            local ok = pcall(function() string.upper = nil end)
            local A = aggregate('A')
            A:event('Up', { s = 'string' })
            function A.handle.up(state, cmd) return A.Up{ s = (cmd.s):upper() } end
            function A.replay.Up(state, ev) state.s = ev.s end
            """)
        let r = try engine.execute(aggregate: "A", key: "k", command: "up", args: #"{"s":"abc"}"#)
        #expect(r.events.first?.data == #"{"s":"ABC"}"#)
    }
}
