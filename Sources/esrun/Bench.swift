import ArgumentParser
import Foundation
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure replay, append, snapshot loads and commands (sequential, concurrent, HTTP).",
            discussion: """
                The HTTP workloads start `esrun serve --port 0` and drive it with wrk
                (skipped when wrk is not installed). Progress goes to stderr.
                """)

        @Option(help: "Events in the replayed aggregate and the bulk append.")
        var events = 1_000_000

        @Option(help: "Commands in the sequential and the concurrent workloads.")
        var commands = 100_000

        @Option(help: "Seconds wrk drives each HTTP workload.")
        var httpSeconds = 10

        @Option(help: "Connections wrk keeps open.")
        var connections = 64

        @Flag(help: "Small sizes that run in seconds (for CI); asserts nothing about speed.")
        var quick = false

        @Option(help: "SQLite file to use (a temporary file by default; it is recreated).")
        var db: String?

        func run() async throws {
            var settings = Benchmark.Settings()
            settings.events = quick ? 20_000 : events
            settings.commands = quick ? 2_000 : commands
            settings.concurrentCommands = quick ? 10_000 : commands
            settings.httpSeconds = quick ? 1 : httpSeconds
            settings.connections = connections
            settings.executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
                ?? CommandLine.arguments[0]
            settings.path = db
            let progress = BenchProgress()
            do {
                try await Benchmark(settings: settings, report: { figure in
                    progress.clear()
                    let value = switch figure.unit {
                    case "skipped": "skipped"
                    case "ms", "MiB": String(format: "%.3f %@", figure.value, figure.unit)
                    default: String(format: "%.0f %@", figure.value, figure.unit)
                    }
                    print("\(figure.name.padding(toLength: 40, withPad: " ", startingAt: 0)) \(value)  (\(figure.detail))")
                    fflush(nil)
                }, progress: progress.update).run()
            } catch {
                progress.clear()
                throw report(error)
            }
        }
    }
}

/// Progress of a long workload on stderr: rewritten in place on a terminal, else a line per quarter.
private final class BenchProgress {
    private let live = isatty(STDERR_FILENO) != 0
    private var shown = false
    private var lastQuarter: [String: Int] = [:]

    func update(_ workload: String, _ fraction: Double) {
        let percent = Int(fraction * 100)
        if live {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(workload): \(percent)%".utf8))
            shown = true
        } else if percent / 25 > lastQuarter[workload, default: 0], percent < 100 {
            lastQuarter[workload] = percent / 25
            FileHandle.standardError.write(Data("\(workload): \(percent)%\n".utf8))
        }
    }

    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }
}
