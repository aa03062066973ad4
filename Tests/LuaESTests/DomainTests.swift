import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// The domain API of ARCHITECTURE.md, "Domain API".
@Suite struct DomainTests {
    @Test func bankAccountWithSeveralEventTypes() throws {
        let store = InMemoryEventStore()
        let engine = try loadExample("bank.lua", store: store)
        _ = try engine.execute(aggregate: "Account", key: "a1", command: "open", args: #"{"owner":"ada","overdraft":5000}"#)
        _ = try engine.execute(aggregate: "Account", key: "a1", command: "deposit", args: #"{"amount":12000}"#)
        _ = try engine.execute(aggregate: "Account", key: "a1", command: "withdraw", args: #"{"amount":16000}"#)
        let refused = engineError {
            _ = try engine.execute(aggregate: "Account", key: "a1", command: "withdraw", args: #"{"amount":1001}"#)
        }
        #expect(refused?.kind == .fault)
        #expect(refused?.code == "insufficient_funds")
        #expect(engineError { _ = try engine.execute(aggregate: "Account", key: "a1", command: "close") }?.code == "negative_balance")
        _ = try engine.execute(aggregate: "Account", key: "a1", command: "deposit", args: #"{"amount":4500,"reference":"salary"}"#)
        let closed = try engine.execute(aggregate: "Account", key: "a1", command: "close")
        #expect(closed.events.map(\.type) == ["Withdrawn", "Closed"])
        #expect(closed.version == 6)
        #expect(field(closed.state, "balance") as? Int == 0)
        #expect(engineError { _ = try engine.execute(aggregate: "Account", key: "a1", command: "deposit", args: #"{"amount":1}"#) }?.code == "closed")
        let types = try store.events(of: StreamID(aggregate: "Account", key: "a1")).map(\.type)
        #expect(types == ["Opened", "Deposited", "Withdrawn", "Deposited", "Withdrawn", "Closed"])
        let info = try #require(engine.domain.aggregate(named: "Account"))
        #expect(info.commands == ["close", "deposit", "open", "withdraw"])
        #expect(info.events.map(\.name) == ["Opened", "Deposited", "Withdrawn", "Closed"])
        #expect(info.events[1].fields == ["amount": "integer", "reference": "string?"])
        #expect(info.snapshotEvery == 50)
    }

    @Test func fieldTypesAreCheckedOnEmit() throws {
        let engine = try loadExample("bank.lua")
        _ = try engine.execute(aggregate: "Account", key: "a", command: "open", args: #"{"owner":"bo"}"#)
        let script = try makeEngine("""
            local A = aggregate('A')
            A:event('E', { n = 'integer', s = 'string?' })
            function A.handle.emit(state, cmd) return A.E(cmd) end
            function A.replay.E() end
            """)
        #expect(try script.execute(aggregate: "A", key: "k", command: "emit", args: #"{"n":1}"#).version == 1)
        for (args, code) in [(#"{"n":1.5}"#, "bad_field"), (#"{}"#, "missing_field"), (#"{"n":1,"x":2}"#, "unknown_field"),
                             (#"{"n":1,"s":3}"#, "bad_field")] {
            let error = engineError { _ = try script.execute(aggregate: "A", key: "k", command: "emit", args: args) }
            #expect(error?.kind == .invalid && error?.code.rawValue == code, "\(args): \(String(describing: error))")
            #expect(error?.message.contains("handler A.emit (domain.lua:3)") == true, "\(String(describing: error))")
        }
        #expect(try script.store.version(of: StreamID(aggregate: "A", key: "k")) == 1)
    }

    @Test func handlersCannotWriteState() throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine("""
            local A = aggregate('A', { initial = function() return { n = 0, inner = { x = 1 } } end })
            A:event('E', {})
            function A.handle.top(state) state.n = 5 return A.E{} end
            function A.handle.nested(state) state.inner.x = 2 return A.E{} end
            function A.handle.raw(state) rawset(state, 'n', 1) return A.E{} end
            function A.handle.read(state) local t = {} for k, v in pairs(state.inner) do t[#t + 1] = k end return A.E{} end
            function A.replay.E(state) state.n = state.n + 1 end
            """, store: store)
        for command in ["top", "nested", "raw"] {
            let error = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: command) }
            #expect(error?.kind == .invalid || error?.kind == .forbidden, "\(command): \(String(describing: error))")
            #expect(error?.message.contains("read-only") == true, "\(String(describing: error))")
        }
        #expect(try store.version(of: StreamID(aggregate: "A", key: "k")) == 0)
        #expect(try engine.execute(aggregate: "A", key: "k", command: "read").state == #"{"inner":{"x":1},"n":1}"#)
    }

    @Test func undeclaredEventTypesAreRefusedAndNothingIsStored() throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine("""
            local A = aggregate('A')
            A:event('Known', {})
            function A.handle.go(state) return A.Unknown{} end
            function A.handle.plain(state) return { type = 'Known' } end
            function A.replay.Known() end
            """, store: store)
        let error = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "go") }
        #expect(error?.kind == .invalid)
        #expect(error?.code == "undeclared_event")
        #expect(error?.message == "handler A.go (domain.lua:3): A has no event type 'Unknown' (declare it with A:event(\"Unknown\", {...}))")
        #expect(engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "plain") }?.code == "bad_result")
        #expect(try store.version(of: StreamID(aggregate: "A", key: "k")) == 0)
    }

    @Test func aFailingReplayMeansNothingIsStored() throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine("""
            local A = aggregate('A')
            A:event('E', { n = 'integer' })
            function A.handle.go(state, cmd) return { A.E{ n = 1 }, A.E{ n = cmd.n } } end
            function A.replay.E(state, ev) if ev.n == 0 then error('cannot apply zero') end state.n = ev.n end
            """, store: store)
        let error = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "go", args: #"{"n":0}"#) }
        #expect(error?.kind == .script)
        #expect(error?.message == "replay of A.E: domain.lua:4: cannot apply zero")
        #expect(try store.version(of: StreamID(aggregate: "A", key: "k")) == 0)
        #expect(try engine.execute(aggregate: "A", key: "k", command: "go", args: #"{"n":2}"#).state == #"{"n":2}"#)
    }

    @Test func scriptErrorsNameFileAndLineAndFaultsCarryTheirCode() throws {
        let engine = try makeEngine("""
            local A = aggregate('A')
            A:event('E', {})
            function A.handle.bug(state) local x = nil return x.field end
            function A.handle.no(state) fault('nope', 'not today') end
            function A.replay.E() end
            """)
        let bug = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "bug") }
        #expect(bug?.kind == .script)
        #expect(bug?.message == "handler A.bug: domain.lua:3: attempt to index a nil value (local 'x')")
        #expect(bug?.traceback.contains("domain.lua:3") == true)
        let fault = engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "no") }
        #expect(fault == EngineError(kind: .fault, code: "nope", message: "not today", location: "domain.lua:4",
                                     traceback: fault?.traceback ?? ""))
        #expect(engineError { _ = try engine.execute(aggregate: "A", key: "k", command: "missing") }?.code == "unknown_command")
        #expect(engineError { _ = try engine.execute(aggregate: "B", key: "k", command: "bug") }?.code == "unknown_aggregate")
    }

    @Test func manualWiringSeveralAggregatesAndSiblingModules() throws {
        let engine = try makeEngine("""
            local rules = require('rules')
            local Order = aggregate('Order', { initial = function() return { lines = {} } end })
            local Stock = aggregate('Stock', { initial = { reserved = 0 } })
            Order:event('LineAdded', { sku = 'string', qty = 'integer' })
            Stock:event('Reserved', { qty = 'integer' })
            Order:command('add', function(state, cmd)
              if #state.lines >= rules.max_lines then fault('too_many_lines', 'order is full') end
              return Order.LineAdded{ sku = cmd.sku, qty = cmd.qty }
            end)
            Order:on('LineAdded', function(state, ev) state.lines[#state.lines + 1] = ev end)
            Stock:command('reserve', function(state, cmd) return Stock.Reserved{ qty = cmd.qty } end)
            Stock:on('Reserved', function(state, ev) return { reserved = state.reserved + ev.qty } end)
            """, files: ["rules.lua": "return { max_lines = 2 }"])
        _ = try engine.execute(aggregate: "Order", key: "o1", command: "add", args: #"{"sku":"a","qty":1}"#)
        let r = try engine.execute(aggregate: "Order", key: "o1", command: "add", args: #"{"sku":"b","qty":2}"#)
        #expect(r.state == #"{"lines":[{"qty":1,"sku":"a"},{"qty":2,"sku":"b"}]}"#)
        #expect(engineError { _ = try engine.execute(aggregate: "Order", key: "o1", command: "add", args: #"{"sku":"c","qty":1}"#) }?.code == "too_many_lines")
        _ = try engine.execute(aggregate: "Stock", key: "s", command: "reserve", args: #"{"qty":3}"#)
        #expect(try engine.execute(aggregate: "Stock", key: "s", command: "reserve", args: #"{"qty":4}"#).state == #"{"reserved":7}"#)
        engine.dropCache()
        #expect(try engine.state(aggregate: "Stock", key: "s").state == #"{"reserved":7}"#)
    }

    @Test func ctxGivesKeyVersionClockAndIds() throws {
        let engine = try makeEngine("""
            local A = aggregate('A')
            A:event('E', { key = 'string', version = 'integer', now = 'integer', id = 'string', r = 'integer', user = 'string?' })
            function A.handle.go(state, cmd, ctx)
              ctx.log('deciding', ctx.key)
              return A.E{ key = ctx.key, version = ctx.version, now = ctx.now(), id = ctx.uuid(), r = ctx.random(1, 6), user = ctx.meta.user }
            end
            function A.replay.E() end
            """)
        var lines: [String] = []
        engine.logSink = { lines.append($0) }
        _ = try engine.execute(aggregate: "A", key: "k9", command: "go")
        let r = try engine.execute(aggregate: "A", key: "k9", command: "go", meta: #"{"user":"ada"}"#)
        let data = try #require(parse(r.events[0].data) as? [String: Any])
        #expect(data["key"] as? String == "k9")
        #expect(data["version"] as? Int == 1)
        #expect((data["now"] as? Int ?? 0) > 1_700_000_000_000)
        #expect((data["id"] as? String)?.count == 36)
        #expect((1...6).contains(data["r"] as? Int ?? 0))
        #expect(data["user"] as? String == "ada")
        #expect(lines == ["domain.lua:4: deciding k9", "domain.lua:4: deciding k9"])
        #expect(field(r.events[0].meta, "command") as? String == "go")
        #expect(field(r.events[0].meta, "user") as? String == "ada")
    }

    @Test func fingerprintFollowsReplayCodeNotHandlers() throws {
        func fingerprint(_ handler: String, _ replay: String, _ constant: String = "1") throws -> String {
            let engine = try makeEngine("""
                local STEP = \(constant)
                local function bump(state) state.n = (state.n or 0) + STEP end
                local A = aggregate('A')
                A:event('E', {})
                function A.handle.go(state) \(handler) return A.E{} end
                function A.replay.E(state, ev) \(replay) end
                """)
            return engine.domain.aggregates[0].fingerprint
        }
        let base = try fingerprint("", "bump(state)")
        #expect(try fingerprint("local x = 1", "bump(state)") == base)
        #expect(try fingerprint("", "bump(state) bump(state)") != base)
        #expect(try fingerprint("", "bump(state)", "2") != base, "upvalues of replay functions count")
    }
}

/// `pairs` iterates in a fixed key order, so replay code that depends on it folds the same
/// events into the same state in every Lua state (string hashing is seeded per state).
@Suite struct PairsOrderTests {
    static let domain = """
        local Bag = aggregate("Bag", { initial = function() return { items = {}, order = {} } end })
        Bag:event("Added", { name = "string" })
        function Bag.handle.add(state, cmd)
          local seen = {}
          for k in pairs(state.items) do seen[#seen + 1] = k end   -- the read-only view iterates in order too
          return Bag.Added{ name = cmd.name .. "#" .. #seen .. ":" .. (seen[1] or "") }
        end
        function Bag.replay.Added(state, ev)
          state.items[ev.name] = true
          local order = {}
          for k in pairs(state.items) do order[#order + 1] = k end
          state.order = order
        end
        """

    @Test func replayThroughPairsGivesTheSameStateInEveryLuaState() throws {
        let store = InMemoryEventStore()
        let writer = try makeEngine(Self.domain, store: store)
        for i in 0..<60 { _ = try writer.execute(aggregate: "Bag", key: "b", command: "add", args: #"{"name":"item-\#(i * 7919 % 1000)"}"#) }
        var states = Set<String>()
        for _ in 0..<6 {
            let reader = try makeEngine(Self.domain, store: store)
            states.insert(try reader.state(aggregate: "Bag", key: "b").state)
        }
        #expect(states.count == 1)
        let order = try #require((parse(states.first!) as? [String: Any])?["order"] as? [String])
        #expect(order == order.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    @Test func keysComeInATotalOrderAndMetamethodsStillWork() throws {
        let probe = try makeEngine("""
            local out = {}
            for k in pairs({ b = 1, [2] = 1, a = 1, [true] = 1, [1.5] = 1, [-3] = 1, [false] = 1 }) do out[#out + 1] = tostring(k) end
            local proxied = setmetatable({}, { __pairs = function() return function(_, k) if not k then return "only", 1 end end, nil, nil end })
            for k in pairs(proxied) do out[#out + 1] = k end
            local t = { x = 1, y = 2, z = 3 }
            for k in pairs(t) do t[k] = nil end
            out[#out + 1] = tostring(next(t))
            local A = aggregate("Probe", { initial = { order = table.concat(out, " ") } })
            A:event("E", {})
            function A.replay.E() end
            """)
        #expect(try probe.state(aggregate: "Probe", key: "p").state == #"{"order":"-3 1.5 2 false true a b only nil"}"#)
    }
}
