import Foundation

/// What the spec runner and the verifier ask of a host (spec.lua): reading spec files into
/// scenarios, checking given events, and diffing JSON values structurally.
extension LuaHost {
    /// Prepares a Lua spec file's run: `module` (the domain) is required from the script folder.
    public func beginSpec(module: String, display: String) throws(ScriptError) {
        _ = try call("spec_begin", phase: .host, label: "loading \(module) for \(display)", [.string(module)])
    }

    /// The scenarios the spec file run since `beginSpec` declared, as JSON.
    public func specScenarios(display: String) throws(ScriptError) -> String {
        try call("spec_scenarios", phase: .host, label: "reading \(display)", results: [.json]).text(0)
    }

    /// A JSON spec (the seed's shape) normalized into scenarios, as JSON.
    public func scenarios(jsonSpec text: String, display: String) throws(ScriptError) -> String {
        try call("spec_from_json", phase: .host, label: "reading \(display)", [.string(text), .string(display)],
                 results: [.json]).text(0)
    }

    /// Checks a given event against the registry (declared type, field types); returns its schema version.
    public func checkGivenEvent(aggregate: String, type: String, data: String) throws(ScriptError) -> Int {
        Int(try call("spec_check_event", phase: .host, label: "given \(aggregate).\(type)",
                     [.string(aggregate), .string(type), .json(data)], results: [.int]).int(0))
    }

    /// Lines `root.path: <labels.0> a, <labels.1> b` for every difference between two JSON texts;
    /// empty when they are equal. With `partial`, only the fields present in `a` are compared.
    public func jsonDiff(_ a: String, _ b: String, root: String, partial: Bool = false,
                         labels: (String, String) = ("expected", "got")) throws(ScriptError) -> [String] {
        try lines(try call("diff", phase: .host, label: "comparing \(root)",
                       [.json(a), .json(b), .string(root), .int(partial ? 1 : 0), .string(labels.0), .string(labels.1)],
                       results: [.json]).text(0))
    }

    /// Lines describing how committed events differ from expected ones (both JSON arrays of `{type, data}`).
    public func eventDiff(expected: String, actual: String) throws(ScriptError) -> [String] {
        try lines(try call("diff_events", phase: .host, label: "comparing events", [.json(expected), .json(actual)],
                       results: [.json]).text(0))
    }

    private func lines(_ json: String) throws(ScriptError) -> [String] {
        guard let lines = try? JSONDecoder().decode([String].self, from: Data(json.utf8)) else {
            throw ScriptError(kind: .internal, code: "bad_diff", message: "the prelude returned a malformed diff")
        }
        return lines
    }
}
