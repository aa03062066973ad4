import ArgumentParser
import Foundation
import Logging
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay every stream twice from scratch and check the states agree, with each other and with stored snapshots.",
            discussion: "Exits 1 when any stream does not verify. Progress goes to stderr (a live line on a terminal).")

        @Argument(help: "The domain script.") var domain: String

        @Option(help: "Without a terminal, report progress on stderr every N streams (0: never).")
        var progressEvery = 1000

        @OptionGroup var store: StoreOptions

        func run() throws {
            var problems = 0
            try reporting {
                LoggingSystem.bootstrapOnce(level: Logger.Level(rawValue: store.logLevel) ?? .warning)
                let opened = try store.location.open()
                // a failing snapshot store is a problem to report here, not a cache to skip
                let events: EventStore
                do { events = try store.snapshotLocation.route(opened, degrades: false) } catch {
                    try? opened.close()
                    throw error
                }
                defer { try? events.close() }
                let progress = ProgressLine(every: progressEvery)
                let report = try Verifier(domain: domain, store: events, logger: Logger(label: "esrun")).run(
                    progress: progress.update,
                    onProblem: { problem in
                        progress.clear()
                        output("MISMATCH " + problem.headline)
                        for line in problem.details { output("    " + line) }
                    })
                progress.clear()
                output(report.summary)
                problems = report.problems.count
            }
            if problems > 0 { throw ExitCode(1) }
        }
    }
}
