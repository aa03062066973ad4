import ArgumentParser
import Foundation
import LuaES

extension ESRun {
    struct Bench: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure replay, append, snapshot loads and commands on the embedded SQLite store.")

        @Option(help: "Events in the replayed aggregate and the bulk append.")
        var events = 1_000_000

        @Option(help: "Commands in the sequential workload.")
        var commands = 100_000

        @Flag(help: "Small sizes that run in seconds (for CI); asserts nothing about speed.")
        var quick = false

        @Option(help: "SQLite file to use (a temporary file by default; it is recreated).")
        var db: String?

        func run() throws {
            var settings = Benchmark.Settings()
            settings.events = quick ? 20_000 : events
            settings.commands = quick ? 2_000 : commands
            settings.path = db
            try reporting {
                try Benchmark(settings: settings) { figure in
                    let value = figure.unit == "ms" || figure.unit == "MiB"
                        ? String(format: "%.3f", figure.value) : String(format: "%.0f", figure.value)
                    print("\(figure.name.padding(toLength: 40, withPad: " ", startingAt: 0)) \(value) \(figure.unit)  (\(figure.detail))")
                    fflush(nil)
                }.run()
            }
        }
    }
}
