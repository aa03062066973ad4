import Foundation

/// What the REPL asks of an engine: evaluating typed chunks in the host phase and
/// rendering values, states and diffs (in Lua, by the prelude's REPL part, inside
/// protected calls).
extension Engine {
    /// The result of evaluating a chunk typed at the prompt.
    public enum Evaluation: Equatable, Sendable {
        /// The chunk is not finished (a syntax error at `<eof>`): read another line.
        case incomplete
        /// The chunk ran; the text to print (values, committed events, new states) may be empty.
        case done(String)
    }

    /// Makes the loaded aggregates globals and records commands run at the prompt.
    /// Call once, after loading the domain and before `evaluate`.
    /// - Throws: `EngineError` when the Lua state cannot be set up.
    public func prepareREPL() throws {
        _ = try host.invoke("repl_setup", phase: .host, label: "repl", args: [], results: [])
    }

    /// Compiles `source` (as `return <source>` first, then as a statement) and runs it in the host phase.
    /// - Throws: `EngineError` with the chunk's error: kind, code, message, location.
    public func evaluate(_ source: String) throws -> Evaluation {
        let r = try host.invoke("repl_eval", phase: .host, label: "repl", args: [.string(source)], results: [.string, .string])
        guard case .string(let status) = r[0], case .string(let text) = r[1] else { return .done("") }
        if status == "incomplete" { return .incomplete }
        try refreshDomain() // the chunk may have declared aggregates
        return .done(text)
    }

    /// A JSON value (state, event data) pretty printed as Lua, with sorted keys.
    public func render(json: String) throws -> String {
        try text(of: host.invoke("repl_render_json", phase: .host, label: "repl", args: [.string(json)], results: [.string]))
    }

    /// How the state `after` differs from `before` (both JSON), one change per line.
    public func diff(_ before: String, _ after: String) throws -> String {
        try text(of: host.invoke("repl_diff_json", phase: .host, label: "repl",
                                 args: [.string(before), .string(after)], results: [.string]))
    }

    /// Global names (`path` empty) or the field names of the table at a dotted path such as `string`.
    public func names(in path: String) throws -> [String] {
        let r = try host.invoke("repl_names", phase: .host, label: "repl", args: [.string(path)], results: [.json])
        guard case .json(let text) = r[0] else { return [] }
        return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }

    /// Replays one stream event by event, calling `visit` with the state (JSON) before any
    /// event (`nil`) and after each one.
    /// - Throws: `EngineError` from replay, or `StoreError`.
    public func replaySteps(aggregate name: String, key: String,
                            visit: (RecordedEvent?, String) throws -> Void) throws {
        let agg = try aggregate(name)
        let stream = StreamID(aggregate: name, key: key)
        var ref = try loadState(agg, stream, upTo: 0).ref
        defer { host.unref(ref) }
        try visit(nil, try encodeState(ref))
        var page = ReplayPage()
        for event in try store.events(of: stream, after: 0, upTo: nil, limit: nil) {
            page.removeAll()
            page.append(event)
            try host.replay(aggregate: name, stateRef: &ref, page: page)
            try visit(event, try encodeState(ref))
        }
    }

    /// A new engine over the same store, options and logger, with nothing loaded (for a reload).
    public func makeSibling() throws -> Engine {
        try Engine(store: store, options: options, logger: logger)
    }

    private func text(of values: [LuaHost.Value]) -> String {
        guard case .string(let text) = values.first else { return "" }
        return text
    }
}
