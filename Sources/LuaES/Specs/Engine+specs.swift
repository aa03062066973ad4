import Foundation

/// What the spec runner and the verifier ask of an engine's Lua state: reading spec
/// files into scenarios, checking given events, and diffing JSON values structurally.
extension Engine {
    /// Runs a Lua spec file (host phase) after requiring `module` (the domain) from
    /// `moduleDirectory`, and returns the scenarios it declared.
    func scenarios(luaSpec path: String, display: String, module: String, moduleDirectory: String) throws -> [Scenario] {
        host.setScriptDirectory(moduleDirectory)
        _ = try host.invoke("spec_begin", phase: .host, label: "loading \(module) for \(display)",
                            args: [.string(module)], results: [])
        try run(script: path, display: display)
        let r = try host.invoke("spec_scenarios", phase: .host, label: "reading \(display)", args: [], results: [.json])
        return try Self.decodeScenarios(r)
    }

    /// Normalizes a JSON spec (the seed's shape) into scenarios.
    func scenarios(jsonSpec text: String, display: String) throws -> [Scenario] {
        let r = try host.invoke("spec_from_json", phase: .host, label: "reading \(display)",
                                args: [.string(text), .string(display)], results: [.json])
        return try Self.decodeScenarios(r)
    }

    private static func decodeScenarios(_ values: [LuaHost.Value]) throws -> [Scenario] {
        guard case .json(let text) = values.first else { return [] }
        return try JSONDecoder().decode([Scenario].self, from: Data(text.utf8))
    }

    /// Checks a given event against the registry (declared type, field types); returns its schema version.
    func checkGivenEvent(aggregate: String, type: String, data: String) throws -> Int {
        let r = try host.invoke("spec_check_event", phase: .host, label: "given \(aggregate).\(type)",
                                args: [.string(aggregate), .string(type), .json(data)], results: [.int])
        guard case .int(let schema) = r[0] else { return 1 }
        return Int(schema)
    }

    /// Lines `root.path: <labels.0> a, <labels.1> b` for every difference between two JSON texts;
    /// empty when they are equal. With `partial`, only the fields present in `a` are compared.
    func jsonDiff(_ a: String, _ b: String, root: String, partial: Bool = false,
                  labels: (String, String) = ("expected", "got")) throws -> [String] {
        let r = try host.invoke("diff", phase: .host, label: "comparing \(root)",
                                args: [.json(a), .json(b), .string(root), .int(partial ? 1 : 0),
                                       .string(labels.0), .string(labels.1)], results: [.json])
        return try Self.decodeLines(r)
    }

    /// Lines describing how committed events differ from expected ones (both JSON arrays of `{type, data}`).
    func eventDiff(expected: String, actual: String) throws -> [String] {
        let r = try host.invoke("diff_events", phase: .host, label: "comparing events",
                                args: [.json(expected), .json(actual)], results: [.json])
        return try Self.decodeLines(r)
    }

    private static func decodeLines(_ values: [LuaHost.Value]) throws -> [String] {
        guard case .json(let text) = values.first else { return [] }
        return try JSONDecoder().decode([String].self, from: Data(text.utf8))
    }
}
