import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// Event schema versions, upcaster chains and renamed types (ARCHITECTURE.md, "Evolution") over stored events.
@Suite("Upcasting")
struct UpcastTests {
    static let bank = """
    local A = aggregate("Account", { snapshot_every = 0, initial = function() return { balance = 0, notes = {} } end })
    -- v1 {amount}, v2 {cents}, v3 {cents, currency}
    A:event("Deposited", { cents = "integer", currency = "string" }, {
      version = 3,
      renamed_from = { "MoneyAdded" },
      upcast = {
        [1] = function(e) return { cents = e.amount * 100 } end,
        [2] = function(e) e.currency = "EUR"; return e end,
      },
    })
    function A.handle.deposit(state, cmd) return A.Deposited{ cents = cmd.cents, currency = "USD" } end
    function A.replay.Deposited(state, ev)
      state.balance = state.balance + ev.cents
      state.notes[#state.notes + 1] = ev.currency
    end
    """

    @Test func storedOldVersionsAndOldNamesReplayThroughTheChain() throws {
        let store = InMemoryEventStore()
        let stream = StreamID(aggregate: "Account", key: "a1")
        try store.append([
            NewEvent(type: "MoneyAdded", schema: 1, data: #"{"amount":1}"#),
            NewEvent(type: "Deposited", schema: 1, data: #"{"amount":2}"#),
            NewEvent(type: "Deposited", schema: 2, data: #"{"cents":5}"#),
            NewEvent(type: "MoneyAdded", schema: 2, data: #"{"cents":7}"#),
            NewEvent(type: "Deposited", schema: 3, data: #"{"cents":11,"currency":"GBP"}"#),
        ], to: stream, expectedVersion: 0)
        let engine = try makeEngine(Self.bank, store: store)
        let state = try engine.state(aggregate: "Account", key: "a1")
        #expect(field(state.state, "balance") as? Int == 100 + 200 + 5 + 7 + 11)
        #expect(field(state.state, "notes") as? [String] == ["EUR", "EUR", "EUR", "EUR", "GBP"])
        // new events are stored at the current version under the new name
        let r = try engine.execute(aggregate: "Account", key: "a1", command: "deposit", args: #"{"cents":1}"#)
        #expect(r.events[0].type == "Deposited" && r.events[0].schema == 3)
        // time travel goes through the same chain
        #expect(field(try engine.state(aggregate: "Account", key: "a1", at: 1).state, "balance") as? Int == 100)
    }

    @Test func registryShowsVersionsUpcastersAndRenames() throws {
        let engine = try makeEngine(Self.bank)
        let info = try #require(engine.domain.aggregate(named: "Account")?.events.first)
        #expect(info.version == 3 && info.upcasters == [1, 2] && info.renamedFrom == ["MoneyAdded"])
        // renames and upcasters are part of the fingerprint
        let plain = try makeEngine(Self.bank.replacingOccurrences(of: #"renamed_from = { "MoneyAdded" },"#, with: ""))
        #expect(plain.domain.aggregate(named: "Account")?.fingerprint != engine.domain.aggregate(named: "Account")?.fingerprint)
        let other = try makeEngine(Self.bank.replacingOccurrences(of: #"e.currency = "EUR""#, with: #"e.currency = "CHF""#))
        #expect(other.domain.aggregate(named: "Account")?.fingerprint != engine.domain.aggregate(named: "Account")?.fingerprint)
    }

    @Test func upcastersArePureAndGapsAreClearErrors() throws {
        let store = InMemoryEventStore()
        try store.append([NewEvent(type: "E", schema: 1, data: "{}")], to: StreamID(aggregate: "A", key: "k"), expectedVersion: 0)
        let impure = try makeEngine("""
        local A = aggregate("A")
        A:event("E", nil, { version = 2, upcast = { [1] = function(e) e.t = os.time(); return e end } })
        function A.replay.E(state, ev) end
        """, store: store)
        #expect(engineError { _ = try impure.state(aggregate: "A", key: "k") }?.kind == .forbidden)
        let gap = try makeEngine("""
        local A = aggregate("A")
        A:event("E", nil, { version = 3, upcast = { [2] = function(e) return e end } })
        function A.replay.E(state, ev) end
        """, store: store)
        let error = engineError { _ = try gap.state(aggregate: "A", key: "k") }
        #expect(error?.code == "missing_upcast" && error?.message.contains("from version 1") == true)
    }

    @Test func badRenamesAreRefusedAtLoad() throws {
        let clash = engineError { _ = try makeEngine("""
        local A = aggregate("A")
        A:event("Old")
        A:event("New", nil, { renamed_from = { "Old" } })
        """) }
        #expect(clash?.code == "duplicate_event")
        let option = engineError { _ = try makeEngine("""
        local A = aggregate("A")
        A:event("New", nil, { renamed = { "Old" } })
        """) }
        #expect(option?.code == "bad_option")
    }
}
