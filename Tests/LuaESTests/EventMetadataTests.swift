import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// Metadata on every stored event, and the script's on_append / on_load hooks.
@Suite("Event metadata and script hooks")
struct EventMetadataTests {
    static let domain = """
    local C = aggregate("C", { initial = function() return { n = 0 } end })
    C:event("Added", { by = "integer" })
    function C.handle.add(state, cmd) return { C.Added{ by = 1 }, C.Added{ by = cmd.by or 1 } } end
    function C.replay.Added(state, ev) state.n = state.n + ev.by end
    """

    func meta(_ event: RecordedEvent) -> [String: Any] { parse(event.meta) as? [String: Any] ?? [:] }

    @Test func everyEventCarriesIdsCommandAndScriptVersion() throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine(Self.domain, store: store)
        let fingerprint = try #require(engine.domain.aggregate(named: "C")?.fingerprint)
        let plain = try engine.execute(aggregate: "C", key: "k", command: "add")
        let given = try engine.execute(CommandRequest(aggregate: "C", key: "k", command: "add",
                                                      meta: #"{"user":"ada","correlation_id":"corr-1"}"#, idempotencyKey: "idem-1"))
        let served = try engine.execute(aggregate: "C", key: "k", command: "add", meta: #"{"request_id":"req-9","causation_id":"ev-7"}"#)
        let stored = try store.events(after: 0, limit: 100)
        #expect(stored.count == 6)
        let ids = stored.compactMap { meta($0)["event_id"] as? String }
        #expect(ids.count == 6 && Set(ids).count == 6 && ids.allSatisfy { UUID(uuidString: $0) != nil })
        for event in stored {
            #expect(meta(event)["command"] as? String == "add")
            #expect(meta(event)["script_version"] as? String == fingerprint)
            #expect(event.recordedAt > 0)
        }
        // no caller meta: one command id per command, correlation and causation default to it
        let p = plain.events.map(meta)
        let commandID = try #require(p[0]["command_id"] as? String)
        #expect(p[1]["command_id"] as? String == commandID)
        #expect(p[0]["correlation_id"] as? String == commandID && p[0]["causation_id"] as? String == commandID)
        // caller meta: kept; the idempotency key is the command id
        let g = meta(given.events[0])
        #expect(g["user"] as? String == "ada" && g["correlation_id"] as? String == "corr-1")
        #expect(g["command_id"] as? String == "idem-1" && g["causation_id"] as? String == "idem-1")
        // a request id is the default correlation; a given causation id is kept
        let s = meta(served.events[0])
        #expect(s["correlation_id"] as? String == "req-9" && s["causation_id"] as? String == "ev-7")
        #expect(stored.map(\.meta) == (plain.events + given.events + served.events).map(\.meta))
    }

    @Test func callersCannotSetEngineKeysAndMetaMustBeAnObject() throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine(Self.domain, store: store)
        #expect(engineError { _ = try engine.execute(aggregate: "C", key: "k", command: "add", meta: #"{"event_id":"x"}"#) }?.code == "reserved_meta")
        #expect(engineError { _ = try engine.execute(aggregate: "C", key: "k", command: "add", meta: "[1]") }?.code == "bad_meta")
        #expect(try store.events(after: 0, limit: 10).isEmpty)
        #expect(try engine.execute(aggregate: "C", key: "k", command: "add").version == 2)
    }

    @Test func onAppendHooksAddMetadataOrRefuse() throws {
        let store = InMemoryEventStore()
        let engine = try makeEngine(Self.domain + """

        on_append(function(events, ctx)
          for i, e in ipairs(events) do
            e.meta.user = ctx.meta.user or "anonymous"
            e.meta.seq = i
            e.meta.where_from = ctx.aggregate .. "." .. ctx.command .. "@" .. ctx.key
          end
        end)
        C:on_append(function(events, ctx)
          if ctx.meta.user == "mallory" then fault("not_allowed", "mallory may not add") end
          if ctx.meta.user == "bug" then error("hook bug") end
          if ctx.meta.user == "sneaky" then events[1].meta.command = "other" end
          events[1].meta.first = true
        end)
        """, store: store)
        #expect(engine.domain.aggregate(named: "C")?.appendHooks == 2)
        let r = try engine.execute(aggregate: "C", key: "k", command: "add", meta: #"{"user":"ada"}"#)
        let m = r.events.map(meta)
        #expect(m[0]["user"] as? String == "ada" && m[0]["seq"] as? Int == 1 && m[1]["seq"] as? Int == 2)
        #expect(m[0]["first"] as? Bool == true && m[1]["first"] == nil)
        #expect(m[0]["where_from"] as? String == "C.add@k")
        #expect(m[0]["event_id"] as? String != m[1]["event_id"] as? String)
        #expect(m[0]["command"] as? String == "add" && m[0]["command_id"] != nil)

        let refused = engineError { _ = try engine.execute(aggregate: "C", key: "k", command: "add", meta: #"{"user":"mallory"}"#) }
        #expect(refused?.kind == .fault && refused?.code == "not_allowed")
        let bug = engineError { _ = try engine.execute(aggregate: "C", key: "k", command: "add", meta: #"{"user":"bug"}"#) }
        #expect(bug?.kind == .script)
        #expect(bug.map { "\($0.location) \($0.message)" }?.contains("domain.lua") == true)
        #expect(bug?.message.contains("hook bug") == true)
        let sneaky = engineError { _ = try engine.execute(aggregate: "C", key: "k", command: "add", meta: #"{"user":"sneaky"}"#) }
        #expect(sneaky?.code == "reserved_meta")
        // nothing of the refused commands is stored, and the cached state is intact
        #expect(try store.events(after: 0, limit: 100).count == 2)
        #expect(field(try engine.state(aggregate: "C", key: "k").state, "n") as? Int == 2)
    }

    @Test func onLoadHooksCheckLoadedEventsInTheReplayPhase() throws {
        let store = InMemoryEventStore()
        let source = Self.domain + """

        on_load(function(events, ctx)
          for _, e in ipairs(events) do
            if e.data.by > 100 then error(ctx.aggregate .. "/" .. ctx.key .. " v" .. e.version .. " adds too much") end
          end
        end)
        """
        let engine = try makeEngine(source, store: store)
        #expect(engine.domain.aggregate(named: "C")?.loadHooks == 1)
        _ = try engine.execute(aggregate: "C", key: "k", command: "add", args: #"{"by":5}"#)
        try store.append([NewEvent(type: "Added", data: #"{"by":500}"#)], to: StreamID(aggregate: "C", key: "k"), expectedVersion: 2)
        engine.dropCache()
        let error = engineError { _ = try engine.state(aggregate: "C", key: "k") }
        #expect(error?.message.contains("C/k v3 adds too much") == true)
        #expect(engineError { _ = try engine.history(aggregate: "C", key: "k") }?.message.contains("adds too much") == true)
        // on_load runs in the replay phase: no clock
        let clock = try makeEngine(Self.domain + "\non_load(function() return os.time() end)", store: store)
        #expect(engineError { _ = try clock.state(aggregate: "C", key: "k") }?.kind == .forbidden)
    }
}
