import CLuaShim
import Foundation
import LuaESCore

/// What the engine asks of a host: the registry, states, commands, replay and the
/// `on_load` hooks. Each method names its arguments and results; none trusts a shape.
extension LuaHost {
    /// Caps the events one command may return.
    public func setMaxEvents(_ count: Int) throws(ScriptError) {
        _ = try call("set_max_events", phase: .load, label: "setup", [.int(Int64(count))])
    }

    /// The registry of what the loaded scripts declared.
    public func describe() throws(ScriptError) -> DomainInfo {
        let aggregates = try call("describe", phase: .load, label: "describing the domain", results: [.json]).text(0)
        let projections = try call("describe_projections", phase: .load, label: "describing the projections",
                                   results: [.json]).text(0)
        do {
            return DomainInfo(aggregates: try JSONDecoder().decode([AggregateInfo].self, from: Data(aggregates.utf8)),
                              projections: try JSONDecoder().decode([ProjectionInfo].self, from: Data(projections.utf8)))
        } catch {
            throw ScriptError(kind: .internal, code: "bad_registry", message: "the prelude described the domain wrongly: \(error)")
        }
    }

    /// A fresh initial state of `aggregate` (`initial`, replay phase).
    public func initialState(of aggregate: String) throws(ScriptError) -> StateRef {
        StateRef(self, try call("initial", phase: .replay, label: "initial of \(aggregate)", [.string(aggregate)],
                                results: [.ref]).ref(0))
    }

    /// A state decoded from its JSON text (a snapshot).
    public func decodeState(_ json: String, label: String) throws(ScriptError) -> StateRef {
        StateRef(self, try call("identity", phase: .replay, label: label, [.json(json)], results: [.ref]).ref(0))
    }

    /// A state's JSON text.
    public func encodeState(_ state: StateRef) throws(ScriptError) -> String {
        try call("identity", phase: .replay, label: "encoding state", [.state(state)], results: [.json]).text(0)
    }

    /// Replays a page of stored events onto `state` (which moves to a new table when a
    /// replay function returns one).
    public func replay(_ page: ReplayPage, onto state: StateRef, aggregate: String) throws(ScriptError) {
        guard page.count > 0 else { return }
        var ref = CInt(state.ref)
        let status = page.withSpans(into: &spans) { esr_replay(raw, aggregate, &ref, $0, Int32($1)) }
        state.ref = Int32(ref)
        if status != 0 { throw lastError() }
    }

    /// Runs a command handler on `state` (read-only to the handler), then replays its events
    /// onto it through their JSON form. A fault leaves `state` untouched; after any other
    /// failure it may be half-replayed and must be dropped.
    public func handle(_ command: HandleCall, on state: StateRef) throws(ScriptError) -> HandleOutcome {
        let results = try call(
            "handle", phase: .handle, label: "handler",
            [.string(command.aggregate), .state(state), .string(command.command), .json(command.args),
             .string(command.key), .int(command.version), command.meta.map { .json($0) } ?? .none,
             .int(command.wantsState ? 1 : 0), .int(Int64(max(command.snapshotEvery, 0))),
             command.hookMeta.map { .string("{" + $0 + "}") } ?? .none],
            results: [.events, .ref, .string, .string, .string])
        let events = producedEvents()
        let encoded = results.text(2), encodeError = results.text(3)
        return HandleOutcome(events: events, state: StateRef(self, results.ref(1)),
                             stateJSON: encoded.isEmpty ? nil : encoded,
                             stateEncodingError: encodeError.isEmpty ? nil : encodeError,
                             eventMeta: HookMetadataLines.members(results.text(4), count: events.count))
    }

    /// Runs the `on_load` hooks of `aggregate` over stored events about to be used.
    public func checkLoaded(aggregate: String, key: String, events: [LoadedEvent]) throws(ScriptError) {
        let items = events.map { e in
            JSONText.object([("type", JSONText.quote(e.type)), ("version", String(e.version)),
                             ("schema", String(e.schema)), ("data", e.data)])
        }
        _ = try call("on_load", phase: .replay, label: "on_load hook of \(aggregate)",
                     [.string(aggregate), .string(key), .json(JSONText.array(items))])
    }
}

/// A command for `LuaHost.handle`.
public struct HandleCall {
    public var aggregate: String
    public var command: String
    /// The arguments, a JSON object's text.
    public var args: String
    public var key: String
    /// The stream's version the state is at.
    public var version: Int64
    /// The caller's metadata (`ctx.meta`), a JSON object's text.
    public var meta: String?
    /// Whether the new state's JSON is wanted even when no snapshot is due.
    public var wantsState: Bool
    /// The aggregate's snapshot interval (0: none), so the state is encoded when one is due.
    public var snapshotEvery: Int
    /// The command's metadata members, handed to `on_append` hooks; nil when the aggregate has none.
    public var hookMeta: String?

    public init(aggregate: String, command: String, args: String, key: String, version: Int64, meta: String?,
                wantsState: Bool, snapshotEvery: Int, hookMeta: String?) {
        self.aggregate = aggregate
        self.command = command
        self.args = args
        self.key = key
        self.version = version
        self.meta = meta
        self.wantsState = wantsState
        self.snapshotEvery = snapshotEvery
        self.hookMeta = hookMeta
    }
}

/// What a command handler decided.
public struct HandleOutcome {
    /// The events to append, in order.
    public var events: [ProducedEvent]
    /// The state after them (the table handed in, or a new one a replay function returned).
    public var state: StateRef
    /// That state's JSON, when wanted or a snapshot is due and it could be encoded.
    public var stateJSON: String?
    /// Why the state could not be written as JSON, when it could not.
    public var stateEncodingError: String?
    /// Each event's metadata members from the `on_append` hooks, or nil when none ran.
    public var eventMeta: [String]?
}

/// A stored event handed to `on_load` hooks.
public struct LoadedEvent {
    public var type: String
    public var version: Int64
    public var schema: Int
    public var data: String

    public init(type: String, version: Int64, schema: Int, data: String) {
        self.type = type
        self.version = version
        self.schema = schema
        self.data = data
    }
}
