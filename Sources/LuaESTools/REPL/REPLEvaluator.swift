import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// What the REPL asks of an engine's Lua state: evaluating chunks typed at the prompt in
/// the host phase and rendering values, states and diffs (repl.lua, in protected calls).
/// Confined to the engine's thread, like the engine.
public struct REPLEvaluator {
    public let engine: Engine

    public init(_ engine: Engine) { self.engine = engine }

    /// Makes the loaded aggregates globals and records commands run at the prompt.
    /// Call once, after loading the domain and before `evaluate`.
    public func prepare() throws {
        try asEngineError { () throws(ScriptError) in try engine.host.prepareREPL() }
    }

    /// Compiles `source` (as `return <source>` first, then as a statement) and runs it in the host phase.
    /// - Throws: `EngineError` with the chunk's error: kind, code, message, location.
    public func evaluate(_ source: String) throws -> LuaHost.Evaluation {
        let result = try asEngineError { () throws(ScriptError) in try engine.host.evaluate(source) }
        if case .done = result { try engine.refreshDomain() } // the chunk may have declared aggregates
        return result
    }

    /// A JSON value (state, event data) pretty printed as Lua, with sorted keys.
    public func render(json: String) throws -> String {
        try asEngineError { () throws(ScriptError) in try engine.host.render(json: json) }
    }

    /// How the state `after` differs from `before` (both JSON), one change per line.
    public func diff(_ before: String, _ after: String) throws -> String {
        try asEngineError { () throws(ScriptError) in try engine.host.renderDiff(before, after) }
    }

    /// Global names (`path` empty) or the field names of the table at a dotted path such as `string`.
    public func names(in path: String) throws -> [String] {
        try asEngineError { () throws(ScriptError) in try engine.host.names(in: path) }
    }

    /// Replays one stream event by event, calling `visit` with the state (JSON) before any
    /// event (`nil`) and after each one.
    /// - Throws: `EngineError` from replay, or `StoreError`.
    public func replaySteps(aggregate name: String, key: String,
                            visit: (RecordedEvent?, String) throws -> Void) throws {
        let agg = try engine.aggregate(name)
        let stream = StreamID(aggregate: name, key: key)
        let state = try engine.loadState(agg, stream, upTo: 0).state
        try visit(nil, try engine.encodeState(state))
        var page = ReplayPage()
        for event in try engine.store.events(of: stream, after: 0, upTo: nil, limit: nil) {
            page.removeAll()
            page.append(event)
            try asEngineError { () throws(ScriptError) in try engine.host.replay(page, onto: state, aggregate: name) }
            try visit(event, try engine.encodeState(state))
        }
    }
}
