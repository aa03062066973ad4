import Foundation
import LuaES
import LuaESScripting

/// What the spec runner and the verifier ask of an engine's Lua state (spec.lua): reading
/// spec files into scenarios, checking given events, and diffing JSON values structurally.
struct SpecEvaluator {
    let engine: Engine

    init(_ engine: Engine) { self.engine = engine }

    /// Runs a Lua spec file (host phase) after requiring `module` (the domain) from
    /// `moduleDirectory`, and returns the scenarios it declared.
    func scenarios(luaSpec path: String, display: String, module: String, moduleDirectory: String) throws -> [Scenario] {
        engine.host.setScriptDirectory(moduleDirectory)
        try asEngineError { () throws(ScriptError) in try engine.host.beginSpec(module: module, display: display) }
        try engine.run(script: path, display: display)
        return try Self.decode(asEngineError { () throws(ScriptError) in try engine.host.specScenarios(display: display) })
    }

    /// Normalizes a JSON spec (the seed's shape) into scenarios.
    func scenarios(jsonSpec text: String, display: String) throws -> [Scenario] {
        try Self.decode(asEngineError { () throws(ScriptError) in try engine.host.scenarios(jsonSpec: text, display: display) })
    }

    private static func decode(_ json: String) throws -> [Scenario] {
        try JSONDecoder().decode([Scenario].self, from: Data(json.utf8))
    }

    /// Checks a given event against the registry (declared type, field types); returns its schema version.
    func checkGivenEvent(aggregate: String, type: String, data: String) throws -> Int {
        try asEngineError { () throws(ScriptError) in try engine.host.checkGivenEvent(aggregate: aggregate, type: type, data: data) }
    }

    /// Lines `root.path: <labels.0> a, <labels.1> b` for every difference between two JSON texts.
    func jsonDiff(_ a: String, _ b: String, root: String, partial: Bool = false,
                  labels: (String, String) = ("expected", "got")) throws -> [String] {
        try asEngineError { () throws(ScriptError) in
            try engine.host.jsonDiff(a, b, root: root, partial: partial, labels: labels)
        }
    }

    /// Lines describing how committed events differ from expected ones.
    func eventDiff(expected: String, actual: String) throws -> [String] {
        try asEngineError { () throws(ScriptError) in try engine.host.eventDiff(expected: expected, actual: actual) }
    }
}
