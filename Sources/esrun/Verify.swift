import ArgumentParser
import Foundation
import LuaES

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
                let engine = try store.makeEngine(domain: nil) // opens the store and sets up logging
                defer { try? engine.store.close() }
                let progress = ProgressLine(every: progressEvery)
                let report = try Verifier(domain: domain, store: engine.store).run(
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

/// Progress on stderr: a line rewritten in place on a terminal, else a line every N streams.
final class ProgressLine {
    private let every: Int
    private let live = isatty(STDERR_FILENO) != 0
    private var shown = false
    private var last = Date.distantPast

    init(every: Int) { self.every = every }

    func update(_ done: Int, _ total: Int) {
        if live {
            guard done == total || Date().timeIntervalSince(last) > 0.1 else { return }
            last = Date()
            let width = 30
            let filled = total == 0 ? width : done * width / total
            let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
            FileHandle.standardError.write(Data("\r[\(bar)] \(done)/\(total) streams".utf8))
            shown = true
        } else if every > 0, done % every == 0 || (done == total && done >= every) {
            FileHandle.standardError.write(Data("verified \(done)/\(total) streams\n".utf8))
        }
    }

    func clear() {
        guard shown else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        shown = false
    }
}
