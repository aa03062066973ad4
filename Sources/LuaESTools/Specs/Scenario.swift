import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// One given/when/then scenario of a spec file, as the prelude normalizes it from a
/// Lua `scenario(name, {...})` call or the seed's JSON shape. Values the engine takes
/// as JSON (command arguments, event data, expected state) are kept as JSON text.
struct Scenario: Decodable, Sendable {
    /// A setup step: a given event appended through the store, or a command run through the engine.
    struct Step: Decodable, Sendable {
        /// Event type of a given event (nil for a command).
        var event: String?
        /// JSON text of the given event's data.
        var data: String?
        var command: String?
        /// JSON text of the command's arguments.
        var args: String?
        /// JSON text of the command's metadata.
        var meta: String?
        /// The fault code the command must fail with, when it must fail.
        var fault: String?
    }

    var name: String
    /// Aggregate name; inherited from the parent scenario when nil.
    var aggregate: String?
    /// Aggregate key; inherited, else "spec".
    var key: String?
    /// Name of the scenario whose steps (and `when`) run first.
    var inherit: String?
    /// Where it was written ("counter.spec.lua:12" or the JSON file's name).
    var location: String
    var given: [Step]
    var when: Step?
    /// JSON text of `[{type, data?}]`: the events `when` must commit, in order.
    var expectEvents: String?
    /// The fault code `when` must fail with.
    var expectFault: String?
    /// JSON text of the state expected at the end.
    var expectState: String?
    /// Only the fields listed in `expectState` are compared (the JSON form's `expect`).
    var partial: Bool

    enum CodingKeys: String, CodingKey {
        case name, aggregate, key, inherit, location, given, when, partial
        case expectEvents = "expect_events"
        case expectFault = "expect_fault"
        case expectState = "expect_state"
    }
}

/// The result of one scenario.
public struct ScenarioOutcome: Sendable, Equatable {
    /// The spec file's short name ("counter" for counter.spec.lua).
    public var suite: String
    /// The spec file as given.
    public var file: String
    public var name: String
    /// Where the scenario was written ("counter.spec.lua:12", or the JSON file).
    public var location: String
    /// Why it failed, one readable line each (diff lines, unexpected events, errors); empty when it passed.
    public var failures: [String]
    public var seconds: Double

    public var passed: Bool { failures.isEmpty }
}

/// The results of a run of `esrun test`.
public struct SpecReport: Sendable, Equatable {
    public var outcomes: [ScenarioOutcome] = []

    public var passed: Int { outcomes.filter(\.passed).count }
    public var failed: Int { outcomes.count - passed }
    /// The line CI reads: exactly `N passed, N failed`.
    public var summary: String { "\(passed) passed, \(failed) failed" }
}
