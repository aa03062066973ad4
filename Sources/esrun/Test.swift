import ArgumentParser
import Foundation
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run given/when/then scenarios (Lua or JSON spec files) against a domain script.",
            discussion: """
                Without SPECS, runs DOMAIN.spec.lua and DOMAIN.spec.json beside the domain.
                Prints one line per scenario and a last line `N passed, N failed`; exits 1 when any failed.
                """)

        @Argument(help: "The domain script.") var domain: String
        @Argument(help: "Spec files (.spec.lua or .spec.json).") var specs: [String] = []

        @Option(help: "Also write the results as JUnit XML to this file.")
        var junit: String?

        func run() throws {
            var failed = 0
            try reporting {
                let files = specs.isEmpty ? SpecRunner.discover(domain: domain) : specs
                if files.isEmpty {
                    throw EngineError(kind: .invalid, code: "no_specs",
                                      message: "no spec files given and none beside \(domain) (name.spec.lua, name.spec.json)")
                }
                let report = SpecRunner(domain: domain).run(files: files) { outcome in
                    output(outcome.passed ? "ok   \(outcome.suite): \(outcome.name)"
                           : "FAIL \(outcome.suite): \(outcome.name)  (\(outcome.location))")
                    for line in outcome.failures { output("       " + line) }
                }
                output(report.summary)
                if let junit {
                    try Data(report.junitXML().utf8).write(to: URL(fileURLWithPath: junit))
                }
                failed = report.failed
            }
            if failed > 0 { throw ExitCode(1) }
        }
    }
}
