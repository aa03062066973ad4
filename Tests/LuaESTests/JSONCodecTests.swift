import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// The JSON codec of ARCHITECTURE.md, "Storage guarantees": exact integers, floats that stay floats, UTF-8, bounded depth.
@Suite struct JSONCodecTests {
    func roundTrip(_ json: String) throws -> String {
        let host = try LuaHost()
        return try host.encodeState(host.decodeState(json, label: "test"))
    }

    @Test(arguments: [
        ("9007199254740993", "9007199254740993"),        // 2^53 + 1
        ("-9223372036854775808", "-9223372036854775808"), // -2^63
        ("9223372036854775807", "9223372036854775807"),
        ("0.1", "0.1"),
        ("1.0", "1.0"),
        ("-0.0", "-0.0"),
        ("1e300", "1e+300"),
        ("5e-324", "4.94065645841247e-324"),
        ("123456789012345", "123456789012345"),
        ("[]", "[]"),
        ("{}", "{}"),
        ("[1,2.5,\"x\",true,false]", "[1,2.5,\"x\",true,false]"),
        (#"{"b":{"c":[{"d":[]}]},"a":1}"#, #"{"a":1,"b":{"c":[{"d":[]}]}}"#),
        (#""é 😀 \ud83d\ude00 \u0000 \n""#, #""é 😀 😀 \u0000 \n""#),
        (#"{"a":null,"b":1}"#, #"{"b":1}"#),
    ])
    func roundTrips(input: String, output: String) throws {
        #expect(try roundTrip(input) == output)
    }

    @Test func floatsStayFloatsAndIntegersStayIntegers() throws {
        let engine = try makeEngine("""
            local T = aggregate('T')
            T:event('Typed', { types = 'table' })
            function T.handle.types(state, cmd)
              local out = {}
              for k, v in pairs(cmd) do out[k] = math.type(v) or type(v) end
              return T.Typed{ types = out }
            end
            function T.replay.Typed(state, ev) state.types = ev.types end
            """)
        let r = try engine.execute(aggregate: "T", key: "k", command: "types",
                                   args: #"{"f":1.0,"i":1,"big":9007199254740993,"neg":-9223372036854775808,"tiny":0.1,"s":"x"}"#)
        #expect(r.events.first?.data == #"{"types":{"big":"integer","f":"float","i":"integer","neg":"integer","s":"string","tiny":"float"}}"#)
    }

    @Test(arguments: [
        ("{", "invalid JSON at byte"),
        ("[1,]", "invalid JSON at byte"),
        (#"{"a"}"#, "invalid JSON at byte"),
        ("01", "invalid JSON at byte"),
        ("1.", "invalid JSON at byte"),
        (".5", "invalid JSON at byte"),
        (#""\x""#, "invalid JSON at byte"),
        (#""\ud800""#, "invalid JSON at byte"),
        ("[1] x", "invalid JSON at byte"),
        ("nul", "invalid JSON at byte"),
        ("+1", "invalid JSON at byte"),
        ("", "invalid JSON at byte"),
        ("9223372036854775808", "integer out of range"),
        ("[1,null]", "null inside an array"),
    ])
    func malformedInputIsAClearError(input: String, expected: String) throws {
        // the codec itself (command bodies that are not an object never reach it: InputRules refuses them)
        let host = try LuaHost()
        do throws(ScriptError) {
            _ = try host.decodeState(input, label: "test")
            Issue.record("\(input) must not decode")
        } catch {
            #expect(error.kind == .invalid, "\(input): \(error)")
            #expect(error.code == "bad_json", "\(input): \(error)")
            #expect(error.message.contains(expected), "\(input): \(error)")
        }
    }

    @Test func aMalformedObjectBodyStoresNothing() throws {
        let engine = try loadExample("counter.lua")
        let error = engineError { _ = try engine.execute(aggregate: "Counter", key: "k", command: "increment", args: #"{"a"}"#) }
        #expect(error?.kind == .invalid && error?.code == "bad_json", "\(String(describing: error))")
        #expect(try engine.store.version(of: StreamID(aggregate: "Counter", key: "k")) == 0)
    }

    @Test func tenThousandDeepNestingIsRefused() throws {
        let engine = try loadExample("counter.lua")
        let deep = "{\"a\":" + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}"
        let error = engineError { _ = try engine.execute(aggregate: "Counter", key: "k", command: "increment", args: deep) }
        #expect(error?.kind == .invalid)
        #expect(error?.message.contains("nesting deeper than 128") == true, "\(String(describing: error))")
        let deepObject = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(engineError { _ = try engine.execute(aggregate: "Counter", key: "k", command: "increment", args: deepObject) }?.kind == .invalid)
    }

    @Test(arguments: [
        ("cycle", "cyclic"),
        ("fn", "cannot encode a function"),
        ("nan", "NaN"),
        ("sparse", "sparse"),
        ("mixed", "mixed"),
        ("deep", "deeper"),
        ("binary", "invalid UTF-8"),
    ])
    func unencodableEventDataIsRefused(what: String, expected: String) throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine("""
            local B = aggregate('B')
            B:event('Bad', { v = 'any' })
            local function value(what)
              if what == 'cycle' then local t = {} t.self = t return t end
              if what == 'fn' then return { f = print } end
              if what == 'nan' then return 0/0 end
              if what == 'sparse' then return { [1] = 1, [5] = 5 } end
              if what == 'mixed' then return { 1, x = 2 } end
              if what == 'deep' then local t = {} local c = t for i = 1, 200 do c.x = {} c = c.x end return t end
              if what == 'binary' then return '\\xff\\xfe' end
            end
            function B.handle.bad(state, cmd) return B.Bad{ v = value(cmd.what) } end
            function B.replay.Bad(state, ev) end
            """, store: store)
        let error = engineError { _ = try engine.execute(aggregate: "B", key: "k", command: "bad", args: #"{"what":"\#(what)"}"#) }
        #expect(error?.kind == .invalid, "\(what): \(String(describing: error))")
        #expect(error?.message.contains(expected) == true, "\(what): \(String(describing: error))")
        #expect(try store.version(of: StreamID(aggregate: "B", key: "k")) == 0)
    }
}
