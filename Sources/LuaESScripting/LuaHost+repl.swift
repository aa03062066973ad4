import Foundation

/// What the REPL asks of a host (repl.lua): evaluating chunks typed at the prompt in the
/// host phase, and rendering values, states and diffs inside protected calls.
extension LuaHost {
    /// The result of evaluating a chunk typed at the prompt.
    public enum Evaluation: Equatable, Sendable {
        /// The chunk is not finished (a syntax error at `<eof>`): read another line.
        case incomplete
        /// The chunk ran; the text to print (values, committed events, new states) may be empty.
        case done(String)
    }

    /// Makes the loaded aggregates globals and records commands run at the prompt.
    public func prepareREPL() throws(ScriptError) {
        _ = try call("repl_setup", phase: .host, label: "repl")
    }

    /// Compiles `source` (as `return <source>` first, then as a statement) and runs it in the host phase.
    public func evaluate(_ source: String) throws(ScriptError) -> Evaluation {
        let r = try call("repl_eval", phase: .host, label: "repl", [.string(source)], results: [.string, .string])
        return r.text(0) == "incomplete" ? .incomplete : .done(r.text(1))
    }

    /// A JSON value (state, event data) pretty printed as Lua, with sorted keys.
    public func render(json: String) throws(ScriptError) -> String {
        try call("repl_render_json", phase: .host, label: "repl", [.string(json)], results: [.string]).text(0)
    }

    /// How the state `after` differs from `before` (both JSON), one change per line.
    public func renderDiff(_ before: String, _ after: String) throws(ScriptError) -> String {
        try call("repl_diff_json", phase: .host, label: "repl", [.string(before), .string(after)], results: [.string]).text(0)
    }

    /// Global names (`path` empty) or the field names of the table at a dotted path such as `string`.
    public func names(in path: String) throws(ScriptError) -> [String] {
        let text = try call("repl_names", phase: .host, label: "repl", [.string(path)], results: [.json]).text(0)
        return (try? JSONDecoder().decode([String].self, from: Data(text.utf8))) ?? []
    }
}
