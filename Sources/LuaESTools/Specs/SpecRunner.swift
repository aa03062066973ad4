import Foundation
import Logging
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Runs the given/when/then scenarios of spec files against a domain script (`esrun test`).
///
/// Each scenario runs on a fresh `Engine` over a fresh `InMemoryEventStore`: first the steps
/// of the scenario it inherits (recursively), then its given events (appended through the
/// store after a registry check, no handler runs) and given commands, then its `when`
/// command; then its expectations are checked (events, fault code, state).
public struct SpecRunner {
    /// The domain script under test.
    public var domain: String
    public var options: EngineOptions
    public var logger: Logger

    public init(domain: String, options: EngineOptions = EngineOptions(), logger: Logger = Logger(label: "esrun.test")) {
        self.domain = domain
        self.options = options
        self.logger = logger
    }

    /// The spec files beside `domain` that exist: `<name>.spec.lua`, then `<name>.spec.json`.
    public static func discover(domain: String) -> [String] {
        let base = domain.hasSuffix(".lua") ? String(domain.dropLast(4)) : domain
        return [base + ".spec.lua", base + ".spec.json"].filter { FileManager.default.fileExists(atPath: $0) }
    }

    /// The short name of a spec file in output: `counter` for `scripts/counter.spec.lua`.
    public static func suiteName(_ file: String) -> String {
        var name = (file as NSString).lastPathComponent
        for suffix in [".spec.lua", ".spec.json", ".lua", ".json"] where name.hasSuffix(suffix) {
            name = String(name.dropLast(suffix.count))
            break
        }
        return name
    }

    /// Runs every scenario of `files`, in file order; `onOutcome` sees each result as soon as it is known.
    /// A spec file that cannot be read counts as one failed scenario.
    public func run(files: [String], onOutcome: (ScenarioOutcome) -> Void = { _ in }) -> SpecReport {
        var report = SpecReport()
        for file in files {
            let suite = Self.suiteName(file)
            let started = Date()
            let scenarios: [Scenario]
            do {
                scenarios = try read(file)
            } catch {
                let outcome = ScenarioOutcome(suite: suite, file: file, name: "loading \(file)", location: file,
                                              failures: [errorLine(error)], seconds: Date().timeIntervalSince(started))
                report.outcomes.append(outcome)
                onOutcome(outcome)
                continue
            }
            let byName = Dictionary(scenarios.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for scenario in scenarios {
                let outcome = run(scenario, all: byName, suite: suite, file: file)
                report.outcomes.append(outcome)
                onOutcome(outcome)
            }
        }
        return report
    }

    /// Reads a spec file into scenarios: Lua files run in a spec-reading engine, JSON files are normalized.
    func read(_ file: String) throws -> [Scenario] {
        let reader = try Engine(store: InMemoryEventStore(), options: options, logger: logger)
        reader.logSink = { _ in }
        if file.hasSuffix(".json") {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw EngineError.invalid("no_spec", "cannot read \(file)")
            }
            return try SpecEvaluator(reader).scenarios(jsonSpec: text, display: file)
        }
        let module = Self.suiteName(domain)
        let folder = (domain as NSString).deletingLastPathComponent
        return try SpecEvaluator(reader).scenarios(luaSpec: file, display: file, module: module, moduleDirectory: folder)
    }

    /// The steps to run before a scenario's own `when`, with its aggregate and key, inheritance resolved.
    struct Plan {
        struct Item {
            var aggregate: String
            var step: Scenario.Step
            var origin: String
        }

        var aggregate: String
        var key: String
        var items: [Item] = []
    }

    func plan(_ scenario: Scenario, all: [String: Scenario]) throws -> Plan {
        var chain = [scenario]
        var seen: Set<String> = [scenario.name]
        while let parent = chain.last!.inherit {
            guard let found = all[parent] else {
                throw EngineError.invalid("bad_inherit", "inherits '\(parent)', which \(scenario.location) does not define")
            }
            guard seen.insert(parent).inserted else {
                throw EngineError.invalid("bad_inherit", "inheritance cycle through '\(parent)'")
            }
            chain.append(found)
        }
        // chain: the scenario, its parent, ..., the root; aggregates and keys come from the nearest that sets one
        func aggregate(from index: Int) -> String? { chain[index...].lazy.compactMap(\.aggregate).first }
        guard let own = aggregate(from: 0) else {
            throw EngineError.invalid("no_aggregate", "scenario '\(scenario.name)' names no aggregate")
        }
        var plan = Plan(aggregate: own, key: chain.lazy.compactMap(\.key).first ?? "spec")
        for index in chain.indices.reversed() {
            let s = chain[index]
            let agg = aggregate(from: index) ?? own
            let prefix = index == 0 ? "" : "inherited from '\(s.name)': "
            for (i, step) in s.given.enumerated() {
                let what = step.event.map { "event \($0)" } ?? "command \(step.command ?? "?")"
                plan.items.append(Plan.Item(aggregate: agg, step: step, origin: "\(prefix)given \(i + 1) (\(what))"))
            }
            if index > 0, var when = s.when {
                when.fault = s.expectFault
                plan.items.append(Plan.Item(aggregate: agg, step: when, origin: "\(prefix)when (\(when.command ?? "?"))"))
            }
        }
        return plan
    }

    func run(_ scenario: Scenario, all: [String: Scenario], suite: String, file: String) -> ScenarioOutcome {
        let started = Date()
        var failures: [String]
        do {
            let plan = try plan(scenario, all: all)
            let engine = try Engine(store: InMemoryEventStore(), options: options, logger: logger)
            engine.logSink = { _ in }
            try engine.load(script: domain, display: domain)
            failures = []
            for item in plan.items {
                if let failure = try apply(item, engine: engine, key: plan.key) {
                    failures.append(failure)
                    break
                }
            }
            if failures.isEmpty { failures = try check(scenario, engine: engine, plan: plan) }
        } catch {
            failures = [errorLine(error)]
        }
        return ScenarioOutcome(suite: suite, file: file, name: scenario.name, location: scenario.location, failures: failures,
                               seconds: Date().timeIntervalSince(started))
    }

    /// Runs one setup step; returns why it failed, or nil.
    private func apply(_ item: Plan.Item, engine: Engine, key: String) throws -> String? {
        let stream = StreamID(aggregate: item.aggregate, key: key)
        if let type = item.step.event {
            let data = item.step.data ?? "{}"
            do {
                let schema = try SpecEvaluator(engine).checkGivenEvent(aggregate: item.aggregate, type: type, data: data)
                let event = NewEvent(type: type, schema: schema, data: data, meta: #"{"spec":"given"}"#)
                try engine.store.append([event], to: stream, expectedVersion: try engine.store.version(of: stream))
            } catch let error as EngineError {
                return "\(item.origin): \(error.description)"
            }
            engine.dropCache()
            return nil
        }
        let command = item.step.command ?? ""
        do {
            let r = try engine.execute(aggregate: item.aggregate, key: key, command: command,
                                       args: item.step.args ?? "{}", meta: item.step.meta)
            if let fault = item.step.fault {
                return "\(item.origin): expected fault \(fault), but the command succeeded with "
                    + (r.events.isEmpty ? "no events" : r.events.map { "\($0.type) \($0.data)" }.joined(separator: ", "))
            }
        } catch let error as EngineError {
            if let fault = item.step.fault {
                if error.kind == .fault && error.code.rawValue == fault { return nil }
                return "\(item.origin): expected fault \(fault), got \(error.description)"
            }
            return "\(item.origin) failed: \(error.description)"
        }
        return nil
    }

    /// Runs `when` and checks the expectations; returns the failure lines.
    private func check(_ s: Scenario, engine: Engine, plan: Plan) throws -> [String] {
        var failures: [String] = []
        if let when = s.when {
            do {
                let r = try engine.execute(aggregate: plan.aggregate, key: plan.key, command: when.command ?? "",
                                           args: when.args ?? "{}", meta: when.meta)
                if let fault = s.expectFault {
                    failures.append("expected fault \(fault), but the command succeeded with "
                        + (r.events.isEmpty ? "no events" : "events:"))
                    failures += r.events.map { "  \($0.type) \($0.data)" }
                } else if let expected = s.expectEvents {
                    let actual = JSONText.array(r.events.map {
                        JSONText.object([("type", JSONText.quote($0.type)), ("data", $0.data)])
                    })
                    failures += try SpecEvaluator(engine).eventDiff(expected: expected, actual: actual)
                }
            } catch let error as EngineError {
                if let fault = s.expectFault {
                    if error.kind != .fault || error.code.rawValue != fault {
                        failures.append("expected fault \(fault), got \(error.description)")
                    }
                } else {
                    failures.append("the command failed: \(error.description)")
                }
            }
        } else if s.expectFault != nil || s.expectEvents != nil {
            failures.append("expect_fault and expect_events need a `when` command")
        }
        if let expected = s.expectState {
            let actual = try engine.state(aggregate: plan.aggregate, key: plan.key)
            failures += try SpecEvaluator(engine).jsonDiff(expected, actual.state, root: "state", partial: s.partial)
        }
        return failures
    }

}
