import Foundation
@testable import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore
import LuaESTestSupport
@testable import LuaESTools
import Testing

/// The REPL session without a terminal: evaluation, printing, errors, meta commands, reload.
@Suite struct REPLTests {
    /// A session over the counter example (copied, so a test may change it) and what it printed.
    final class Transcript {
        final class Lines { var all: [String] = [] }
        let session: REPLSession
        let domain: URL
        private let printed = Lines()

        init(domain source: String? = nil) throws {
            domain = temporaryDirectory().appendingPathComponent("counter.lua")
            let text = try source ?? String(contentsOf: scriptsDirectory.appendingPathComponent("counter.lua"), encoding: .utf8)
            try text.write(to: domain, atomically: true, encoding: .utf8)
            let printed = self.printed
            session = REPLSession(engine: try Engine(store: InMemoryEventStore()), domain: domain.path) { printed.all.append($0) }
        }

        /// Everything printed so far.
        var lines: [String] { printed.all }

        /// Feeds lines and returns what they printed.
        @discardableResult
        func type(_ input: String...) -> String {
            let start = printed.all.count
            for line in input { session.handle(line: line) }
            return printed.all[start...].joined(separator: "\n")
        }
    }

    @Test func commandsShowEventsAndState() throws {
        let t = try Transcript()
        #expect(t.lines.isEmpty, "\(t.lines)")
        #expect(t.type(#"Counter("c1"):increment{by=2}"#) == """
            Counter("c1"):increment: committed 1 event
              v1 Incremented { by = 2 }
              state at v1: { count = 2 }
            """)
        #expect(t.type(#"local e = Counter("c1"):increment{} return #e"#).hasSuffix("state at v2: { count = 3 }\n1"))
        #expect(t.type(#"Counter("c1").state"#) == "{ count = 3 }")
        #expect(t.type(#"state(Counter, "c1", 1).count"#) == "2")
    }

    @Test func expressionsPrintWithSortedKeys() throws {
        let t = try Transcript()
        #expect(t.type("= 1+1") == "2")
        #expect(t.type("1, 'two', nil, 2.5") == "1\t\"two\"\tnil\t2.5")
        #expect(t.type("x = { b = 1, a = { 3, 2 }, [10] = true, ['k y'] = false }") == "")
        #expect(t.type("x") == #"{ [10] = true, a = { 3, 2 }, b = 1, ["k y"] = false }"#)
        #expect(t.type("x.a") == "{ 3, 2 }")
        let long = t.type("{ first = string.rep('a', 40), second = string.rep('b', 40) }")
        #expect(long == "{\n  first = \"\(String(repeating: "a", count: 40))\",\n  second = \"\(String(repeating: "b", count: 40))\",\n}")
        #expect(t.type("local c = {} c.c = c return c") == "{ c = <cycle> }")
        #expect(t.type("print('side effect')") == "") // print writes to stdout itself
        #expect(t.type("Counter") == "aggregate Counter")
    }

    @Test func incompleteChunksContinue() throws {
        let t = try Transcript()
        #expect(t.type("function add(a, b)") == "")
        #expect(t.session.isContinuing)
        #expect(t.session.prompt == ">> ")
        #expect(t.type("  return a + b", "end") == "")
        #expect(!t.session.isContinuing)
        #expect(t.type("add(40, 2)") == "42")
        t.type("if true then")
        t.session.cancelLine()
        #expect(t.session.prompt == "> ")
        #expect(t.type("= 7") == "7")
    }

    @Test func errorsShowKindCodeMessageAndLocation() throws {
        let t = try Transcript()
        #expect(t.type(#"Counter("c1"):increment{by=99}"#) == "stdin:1: fault: limit_reached: counter is at its limit")
        #expect(t.type(#"Counter("c1"):explode{}"#) == "stdin:1: invalid: unknown_command: Counter has no command 'explode'")
        #expect(t.type("error('boom')") == "script: error: repl: stdin:1: boom")
        #expect(t.type("if if") == "script: syntax: stdin:1: unexpected symbol near 'if'")
        #expect(t.type("os.execute('ls')").hasPrefix("forbidden: os.execute: repl (stdin:1): os.execute is not available"))
        #expect(t.type("local c = Counter('c1') local ok, e = pcall(c.increment, c, { by = 99 }) return e.kind, e.code")
            == "\"fault\"\t\"limit_reached\"")
        #expect(t.type("= 1") == "1") // the session goes on
        #expect(t.type(#"Counter("c1").version"#) == "0")
    }

    @Test func historyStateStepDiffAndEvents() throws {
        let t = try Transcript()
        t.type(#"Counter("c1"):increment{by=2}"#, #"Counter("c1"):increment{by=5}"#, #"Counter("c2"):increment{}"#)
        #expect(t.type(".history Counter c1") == "  v1 Incremented { by = 2 }\n  v2 Incremented { by = 5 }")
        #expect(t.type(".state Counter c1") == #"Counter("c1") at v2: { count = 7 }"#)
        #expect(t.type(".state Counter c1 1") == #"Counter("c1") at v1: { count = 2 }"#)
        #expect(t.type(".step Counter c1") == """
            Counter("c1") initial state: { count = 0 }
            v1 Incremented { by = 2 }
              count: 0 -> 2
            v2 Incremented { by = 5 }
              count: 2 -> 7
            (2 events replayed)
            """)
        #expect(t.type(".diff Counter c1 0 2") == "Counter(\"c1\") v0 -> v2:\n  count: 0 -> 7")
        #expect(t.type(".diff Counter c1 2 2").hasSuffix("(no change)"))
        #expect(t.type(".diff Counter c1 1 9") == "invalid: bad_version: Counter/c1 has version 2; there is no version 9")
        #expect(t.type(".events 1") == """
            #2 Counter("c1") v2 Incremented { by = 5 }
            #3 Counter("c2") v1 Incremented { by = 1 }
            """)
        #expect(t.type(".history Counter") == "usage: .history AGG KEY")
        #expect(t.type(".nope") == "unknown command .nope (.help lists them)")
        #expect(t.type(".aggregates").contains("events:   Incremented { by: integer }"))
        #expect(t.type(".help").contains(".step AGG KEY"))
        t.type(".quit")
        #expect(t.session.finished)
    }

    @Test func diffsShowAddedRemovedAndNestedChanges() throws {
        let engine = try loadExample("counter.lua")
        try REPLEvaluator(engine).prepare()
        let diff = try REPLEvaluator(engine).diff(#"{"a":1,"gone":true,"n":{"x":[1,2]}}"#, #"{"a":1.0,"n":{"x":[1,3,4]},"new":"v"}"#)
        #expect(diff == """
              a: 1 -> 1.0
            - gone = true
              n.x[2]: 2 -> 3
            + n.x[3] = 4
            + new = "v"
            """)
    }

    @Test func reloadKeepsTheOldRulesWhenTheScriptIsBroken() throws {
        let t = try Transcript()
        t.type(#"Counter("c1"):increment{by=2}"#, "kept = 1")
        let good = try String(contentsOf: t.domain, encoding: .utf8)
        try (good + "\nbroken(").write(to: t.domain, atomically: true, encoding: .utf8)
        #expect(t.type(".reload").hasPrefix("reload failed, keeping the previous rules: script: syntax: "))
        #expect(t.type("= kept") == "1") // same Lua state
        #expect(t.type(#"Counter("c1"):increment{by=28}"#).contains("state at v2: { count = 30 }"))
        try good.replacingOccurrences(of: "function Counter.replay.Incremented", with: "function Counter.replay.Incremnted")
            .write(to: t.domain, atomically: true, encoding: .utf8)
        #expect(t.type(".reload") == """
            reload refused, keeping the previous rules:
              Counter.replay.Incremnted replays an event type that is not declared (typo?)
              Counter declares event type Incremented but has no replay function for it
            """)
        try good.replacingOccurrences(of: "local LIMIT = 30", with: "local LIMIT = 100")
            .write(to: t.domain, atomically: true, encoding: .utf8)
        #expect(t.type(".reload").hasPrefix("reloaded \(t.domain.path): Counter"))
        #expect(t.type("= kept") == "nil") // a fresh Lua state
        #expect(t.type(#"Counter("c1"):increment{by=50}"#).contains("state at v3: { count = 80 }"))
    }

    @Test func aBrokenDomainAtStartStillGivesAPrompt() throws {
        let t = try Transcript(domain: "local C = aggregate('C')\nC:event('E')\nthis is not lua\n")
        #expect(t.lines.first?.hasPrefix("cannot load ") == true, "\(t.lines)")
        #expect(t.type("= 1 + 1") == "2")
        try String(contentsOf: scriptsDirectory.appendingPathComponent("counter.lua"), encoding: .utf8)
            .write(to: t.domain, atomically: true, encoding: .utf8)
        #expect(t.type(".reload").hasPrefix("reloaded"))
        #expect(t.type(#"Counter("x").version"#) == "0")
    }

    @Test func interruptStopsARunningChunk() throws {
        let t = try Transcript()
        let interrupts = t.session.interrupts
        let done = Flag()
        let stopper = Thread {
            for _ in 0..<50 where !done.isSet {
                usleep(100_000)
                interrupts.interrupt() // a no-op until the loop runs
            }
        }
        stopper.start()
        let started = Date()
        #expect(t.type("while true do end") == "limit: interrupted: repl (stdin:1): interrupted")
        done.set()
        usleep(150_000) // the stopper has seen the flag: it cannot interrupt the next chunk
        #expect(Date().timeIntervalSince(started) < 5)
        #expect(t.type(#"Counter("c1"):increment{}"#).contains("state at v1: { count = 1 }"))
    }

    @Test func viewShowsProjectionDocumentsCaughtUp() throws {
        let t = try Transcript(domain: try String(contentsOf: scriptsDirectory.appendingPathComponent("bank.lua"), encoding: .utf8))
        t.type(#"Account("a1"):open{ owner = "zoe" }"#, #"Account("a1"):deposit{ amount = 70 }"#)
        #expect(t.type(".view Balances owner:zoe") == "Balances[owner:zoe] at position 2: { accounts = 1, balance = 70 }")
        #expect(t.type(".view Balances account:*") == #"  account:a1: { owner = "zoe" }"#)
        t.type(#"Account("a1"):withdraw{ amount = 20 }"#)
        #expect(t.type(".view Balances owner:zoe").hasSuffix("{ accounts = 1, balance = 50 }"), "caught up again")
        #expect(t.type(".view Balances owner:nobody") == "Balances has no document owner:nobody")
        #expect(t.type(".projections") == "  Balances: live at 3 of 3 (lag 0, generation 1)")
        #expect(t.type(".view Nope x").contains("no projection named Nope"))
        #expect(t.type(".view") == "usage: .view NAME [KEY|PREFIX*]")
        #expect(t.session.completer.complete(".view Ba").candidates == ["Balances"])
    }

    @Test func completion() throws {
        let t = try Transcript()
        let c = t.session.completer
        #expect(c.complete("Cou") == Completion(word: "Cou", candidates: ["Counter"]))
        #expect(c.complete(#"Counter("c1"):in"#) == Completion(word: "in", candidates: ["increment"]))
        #expect(c.complete("x = Counter.In") == Completion(word: "In", candidates: ["Incremented"]))
        #expect(c.complete("Counter:ev").candidates == ["event"])
        #expect(c.complete("string.re").candidates == ["rep", "reverse"])
        #expect(c.complete("pai").candidates == ["pairs"])
        #expect(c.complete(".st").candidates == [".state", ".step"])
        #expect(c.complete(".history Co").candidates == ["Counter"])
        t.type(#"Counter("k1"):increment{}"#, #"Counter("k2"):increment{}"#)
        #expect(c.complete(".step Counter k").candidates == ["k1", "k2"])
        t.type("my_value = 1")
        #expect(t.session.completer.complete("my_").candidates == ["my_value"])
        #expect(c.complete("1.").candidates.isEmpty)
    }
}

/// A flag one thread sets and another polls.
final class Flag: @unchecked Sendable {
    // @unchecked: `value` is only touched while holding `lock`.
    private let lock = NSLock()
    private var value = false

    var isSet: Bool {
        lock.lock()
        defer { lock.unlock() }
        return value
    }

    func set() {
        lock.lock()
        value = true
        lock.unlock()
    }
}
