import Foundation

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
