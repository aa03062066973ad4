import Foundation
import FoundationXML
@testable import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore
import LuaESTestSupport
@testable import LuaESTools
import Testing
#if canImport(FoundationXML)
#endif

/// The spec runner behind `esrun test`: Lua and JSON scenarios, expectations, inheritance, diffs, JUnit.
@Suite struct SpecRunnerTests {
    /// A folder holding counter.lua and the given spec files; returns the domain's path and the specs' paths.
    func workspace(_ specs: [String: String]) throws -> (domain: String, specs: [String]) {
        let dir = temporaryDirectory()
        try FileManager.default.copyItem(at: scriptsDirectory.appendingPathComponent("counter.lua"),
                                         to: dir.appendingPathComponent("counter.lua"))
        var paths: [String] = []
        for (name, text) in specs.sorted(by: { $0.key < $1.key }) {
            let url = dir.appendingPathComponent(name)
            try text.write(to: url, atomically: true, encoding: .utf8)
            paths.append(url.path)
        }
        return (dir.appendingPathComponent("counter.lua").path, paths)
    }

    func run(_ spec: String, name: String = "t.spec.lua") throws -> SpecReport {
        let w = try workspace([name: spec])
        return SpecRunner(domain: w.domain).run(files: w.specs)
    }

    func outcome(_ report: SpecReport, _ name: String) -> ScenarioOutcome? {
        report.outcomes.first { $0.name == name }
    }

    @Test func passingScenariosAndTheSummaryLine() throws {
        let report = try run("""
            local Counter = require("counter")
            scenario("one", { aggregate = Counter, when = "increment", expect_events = { Counter.Incremented{ by = 1 } },
              expect_state = { count = 1 } })
            scenario("given events", { aggregate = "Counter", given = { Counter.Incremented{ by = 29 } },
              when = { "increment", { by = 2 } }, expect_fault = "limit_reached", expect_state = { count = 29 } })
            """)
        #expect(report.outcomes.map(\.name) == ["one", "given events"])
        #expect(report.failed == 0, "\(report.outcomes)")
        #expect(report.summary == "2 passed, 0 failed")
    }

    @Test func wrongStateGivesAReadableDiff() throws {
        let report = try run("""
            local Counter = require("counter")
            scenario("s", { aggregate = Counter, when = { "increment", { by = 2 } }, expect_state = { count = 3, extra = { 1, "x" } } })
            """)
        #expect(report.summary == "0 passed, 1 failed")
        #expect(outcome(report, "s")?.failures == [
            "state.count: expected 3, got 2",
            #"state.extra: expected [1,"x"], got nothing"#,
        ])
    }

    @Test func wrongFaultAndMissingFault() throws {
        let report = try run("""
            local Counter = require("counter")
            scenario("other fault", { aggregate = Counter, when = { "increment", { by = 31 } }, expect_fault = "bad_amount" })
            scenario("no fault", { aggregate = Counter, when = "increment", expect_fault = "bad_amount" })
            scenario("unexpected fault", { aggregate = Counter, when = { "increment", { by = 0 } }, expect_events = {} })
            """)
        #expect(outcome(report, "other fault")?.failures == ["expected fault bad_amount, got fault: limit_reached: counter is at its limit"])
        #expect(outcome(report, "no fault")?.failures == ["expected fault bad_amount, but the command succeeded with events:",
                                                          #"  Incremented {"by":1}"#])
        #expect(outcome(report, "unexpected fault")?.failures.first?.hasPrefix("the command failed: fault: bad_amount") == true)
        #expect(report.failed == 3)
    }

    @Test func unexpectedMissingAndDifferentEvents() throws {
        let report = try run("""
            local Counter = require("counter")
            scenario("none expected", { aggregate = Counter, when = "increment", expect_events = {} })
            scenario("data", { aggregate = Counter, when = "increment", expect_events = { Counter.Incremented{ by = 5 }, "Incremented" } })
            """)
        #expect(outcome(report, "none expected")?.failures == [#"unexpected event 1: Incremented {"by":1}"#])
        #expect(outcome(report, "data")?.failures == ["event 1 Incremented.by: expected 5, got 1", "missing event 2: Incremented"])
    }

    @Test func inheritanceRunsTheParentsStepsFirst() throws {
        let report = try run("""
            local Counter = require("counter")
            scenario("base", { aggregate = Counter, given = { Counter.Incremented{ by = 10 } }, when = { "increment", { by = 10 } },
              expect_state = { count = 20 } })
            scenario("child", { inherit = "base", given_commands = { { "increment", { by = 5 } } }, when = { "increment", { by = 5 } },
              expect_state = { count = 30 } })
            scenario("grandchild", { inherit = "child", when = "increment", expect_fault = "limit_reached" })
            scenario("faulting parent is fine", { inherit = "grandchild", expect_state = { count = 30 } })
            scenario("orphan", { inherit = "nobody", when = "increment" })
            """)
        for name in ["base", "child", "grandchild", "faulting parent is fine"] {
            #expect(outcome(report, name)?.passed == true, "\(name): \(outcome(report, name)?.failures ?? [])")
        }
        #expect(outcome(report, "orphan")?.failures.first?.contains("inherits 'nobody'") == true)
    }

    @Test func givenEventsAreCheckedAgainstTheRegistry() throws {
        let report = try run("""
            { "bad field": { "aggregate": "Counter", "given": [{ "type": "Incremented", "data": { "by": "two" } }] },
              "undeclared": { "aggregate": "Counter", "given": [{ "type": "Decremented" }] },
              "fine": { "aggregate": "Counter", "given": [{ "type": "Incremented", "data": { "by": 7 } }], "expect": { "count": 7 } } }
            """, name: "t.spec.json")
        #expect(outcome(report, "bad field")?.failures.first?.contains("field 'by' must be integer") == true,
                "\(outcome(report, "bad field")?.failures ?? [])")
        #expect(outcome(report, "undeclared")?.failures.first?.contains("no event type 'Decremented'") == true)
        #expect(outcome(report, "fine")?.passed == true)
    }

    @Test func jsonScenariosInTheSeedsShape() throws {
        let report = try run("""
            {
              "a": { "aggregate": "Counter", "commands": [{ "type": "increment", "data": { "by": 30 } }], "expect": { "count": 30 } },
              "b": { "aggregate": "Counter", "inherit": "a",
                     "commands": [{ "type": "increment", "data": { "by": 1 }, "error": "limit_reached" }], "expect": { "count": 30 } },
              "c": { "aggregate": "Counter", "inherit": "a",
                     "commands": [{ "type": "increment", "data": { "by": 1 }, "error": "bad_amount" }] },
              "d": { "aggregate": "Counter", "commands": [{ "type": "increment" }], "expect": { "count": 2 } }
            }
            """, name: "t.spec.json")
        #expect(report.outcomes.map(\.name) == ["a", "b", "c", "d"])
        #expect(outcome(report, "a")?.passed == true)
        #expect(outcome(report, "b")?.passed == true, "\(outcome(report, "b")?.failures ?? [])")
        #expect(outcome(report, "c")?.failures == ["given 1 (command increment): expected fault bad_amount, got fault: limit_reached: counter is at its limit"])
        #expect(outcome(report, "d")?.failures == ["state.count: expected 2, got 1"])
    }

    @Test func aBrokenSpecFileIsOneFailure() throws {
        let report = try run("scenario('x', { aggregate = 'Counter', when = 'increment', bogus = 1 })")
        #expect(report.summary == "0 passed, 1 failed")
        #expect(report.outcomes.first?.failures.first?.contains("unknown field 'bogus'") == true, "\(report.outcomes)")
        let syntax = try run("scenario(")
        #expect(syntax.outcomes.first?.failures.first?.contains("syntax") == true, "\(syntax.outcomes)")
    }

    @Test func scenarioIsOnlyForSpecFiles() throws {
        #expect(engineError { _ = try makeEngine("scenario('x', {})") }?.kind == .forbidden)
        let driver = temporaryDirectory().appendingPathComponent("driver.lua")
        try "scenario('x', {})".write(to: driver, atomically: true, encoding: .utf8)
        let engine = try Engine(store: InMemoryEventStore())
        #expect(engineError { try engine.run(script: driver.path) }?.code == "not_a_spec")
    }

    @Test func discoveryFindsSpecsBesideTheDomain() throws {
        let w = try workspace(["counter.spec.lua": "", "counter.spec.json": "{}"])
        #expect(SpecRunner.discover(domain: w.domain) == [w.specs[1], w.specs[0]]) // .spec.lua, then .spec.json
        #expect(SpecRunner.suiteName("a/b/counter.spec.lua") == "counter")
    }

    @Test func junitIsWellFormedXML() throws {
        let report = try run("""
            local Counter = require("counter")
            scenario("passes <&>", { aggregate = Counter, when = "increment" })
            scenario("fails \\"quoted\\"", { aggregate = Counter, when = "increment", expect_state = { count = "<&>" } })
            """)
        let xml = report.junitXML()
        #expect(xml.contains(#"<testsuites name="esrun test" tests="2" failures="1""#))
        #expect(xml.contains("passes &lt;&amp;&gt;"))
        #if canImport(FoundationXML)
        let delegate = CountingDelegate()
        let parser = XMLParser(data: Data(xml.utf8))
        parser.delegate = delegate
        #expect(parser.parse(), "\(parser.parserError.map { "\($0)" } ?? "")\n\(xml)")
        #expect(delegate.elements["testcase"] == 2)
        #expect(delegate.elements["failure"] == 1)
        #endif
    }
}

#if canImport(FoundationXML)
final class CountingDelegate: NSObject, XMLParserDelegate {
    var elements: [String: Int] = [:]
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                attributes: [String: String] = [:]) {
        elements[name, default: 0] += 1
    }
}
#endif
