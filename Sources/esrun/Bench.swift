import ArgumentParser
import Foundation
import LuaES
import LuaESScripting
import LuaESCore
import LuaESPostgres
import LuaESStore
import LuaESTools

extension ESRun {
    struct Bench: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Measure replay, append, snapshot loads and commands (sequential, concurrent, HTTP).",
            discussion: """
                The HTTP workloads start `esrun serve --port 0` and drive it with wrk
                (skipped when wrk is not installed). Progress goes to stderr.
                With --postgres the workloads run on that database, in fresh schemas dropped at
                the end; the ones that measure only the engine (in-memory store) are skipped.
                """)

        @Option(help: "Events in the replayed aggregate and the bulk append.")
        var events = 1_000_000

        @Option(help: "Commands in the sequential and the concurrent workloads.")
        var commands = 100_000

        @Option(help: "Seconds wrk drives each HTTP workload.")
        var httpSeconds = 10

        @Option(help: "Connections wrk keeps open.")
        var connections = 64

        @Option(help: ArgumentHelp("Run only the workloads whose names contain this text (repeatable).",
                                   discussion: "The bulk append also runs when a selected workload reads what it wrote (replays, projections)."))
        var only: [String] = []

        @Flag(help: "Small sizes that run in seconds (for CI); asserts nothing about speed.")
        var quick = false

        @Option(help: "SQLite file to use (a temporary file by default; it is recreated).")
        var db: String?

        @Option(help: ArgumentHelp("PostgreSQL database to measure instead of SQLite.",
                                   discussion: "postgres://USER@HOST[:PORT]/DATABASE; schemas bench_* are made and dropped.",
                                   valueName: "url"))
        var postgres: String?

        @Option(help: ArgumentHelp("Instead of the workloads: fill one SQLite file to each of these sizes and measure at each.",
                                   discussion: "Comma-separated event counts, e.g. 1000000,10000000,30000000 (BENCHMARKS.md, growth).",
                                   valueName: "sizes"))
        var growth: String?

        func validate() throws {
            if let growth {
                guard postgres == nil else { throw ValidationError("--growth measures SQLite only") }
                guard let sizes = Self.sizes(growth), !sizes.isEmpty else {
                    throw ValidationError("--growth: comma-separated positive event counts, e.g. 1000000,10000000")
                }
            }
            guard let postgres else { return }
            guard db == nil else { throw ValidationError("--db and --postgres exclude each other") }
            guard !postgres.contains("schema=") else { throw ValidationError("--postgres: the bench chooses its own schemas") }
            do { _ = try PostgresStoreConfiguration(url: postgres) } catch { throw ValidationError("\(error)") }
        }

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
            settings.only = only
            settings.store = postgres.map(Self.postgresStore)
            let progress = BenchProgress()
            do {
                let benchmark = Benchmark(settings: settings, report: { figure in
                    progress.clear()
                    let name = figure.name.padding(toLength: 40, withPad: " ", startingAt: 0)
                    guard figure.unit != "text" else { return print("\(name) \(figure.detail)") }
                    let value = switch figure.unit {
                    case "skipped": "skipped"
                    case "ms", "MiB": String(format: "%.3f %@", figure.value, figure.unit)
                    default: String(format: "%.0f %@", figure.value, figure.unit)
                    }
                    print("\(name) \(value)  (\(figure.detail))")
                    fflush(nil)
                }, progress: progress.update)
                if let growth, let sizes = Self.sizes(growth) {
                    try benchmark.growth(stages: sizes)
                } else {
                    try await benchmark.run()
                }
            } catch {
                progress.clear()
                throw report(error)
            }
        }
    }
}

extension ESRun.Bench {
    static func sizes(_ text: String) -> [Int]? {
        let sizes = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard sizes.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return sizes.compactMap { $0 }
    }

    /// A `BenchStore` on schemas of their own in the database at `url` (no `schema=` in it):
    /// `bench_<random>_<part>`, created empty on first use and dropped by `cleanUp`.
    static func postgresStore(url: String) -> BenchStore {
        let run = "bench_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(12)
        let separator = url.contains("?") ? "&" : "?"
        let partURL: @Sendable (String) -> String = { url + separator + "schema=" + run + "_" + $0 }
        let address = (try? PostgresStoreConfiguration(url: url)).map { "\($0.username)@\($0.address)/\($0.database)" } ?? url
        return BenchStore(
            description: "PostgreSQL \(address), schemas \(run)_bench and \(run)_http (dropped at the end)",
            open: { try PostgresEventStore(url: partURL($0)) },
            serveArguments: { ["--postgres", partURL($0)] },
            cleanUp: {
                for part in ["bench", "http"] {
                    do {
                        let store = try PostgresEventStore(url: partURL(part))
                        try store.dropSchema()
                        try store.close()
                    } catch {
                        FileHandle.standardError.write(Data("esrun bench: dropping schema \(run)_\(part) failed: \(error)\n".utf8))
                    }
                }
            })
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
