import Foundation

/// `esrun repl` driven line by line through pipes: send a line, wait for output, with
/// deadlines everywhere so a stuck session fails the test instead of hanging it.
final class REPLProcess {
    /// Output collected by the pipe's reader thread.
    final class Output: @unchecked Sendable {
        // @unchecked: `data` is only touched while holding `lock`.
        private let lock = NSLock()
        private var data = Data()

        func append(_ chunk: Data) {
            lock.lock()
            data.append(chunk)
            lock.unlock()
        }

        var text: String {
            lock.lock()
            defer { lock.unlock() }
            return String(decoding: data, as: UTF8.self)
        }
    }

    let process = Process()
    private let input = Pipe()
    private let pipe = Pipe()
    let output = Output()
    /// How much of the output earlier `expect` calls consumed.
    private var consumed: String.Index?

    init(_ arguments: [String], in directory: URL) throws {
        process.executableURL = ESRunProcess.binary
        process.arguments = ["repl"] + arguments
        process.currentDirectoryURL = directory
        process.standardInput = input
        process.standardOutput = pipe
        process.standardError = pipe
        let output = self.output
        pipe.fileHandleForReading.readabilityHandler = { handle in output.append(handle.availableData) }
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        pipe.fileHandleForReading.readabilityHandler = nil
    }

    func send(_ line: String) {
        input.fileHandleForWriting.write(Data((line + "\n").utf8))
    }

    /// Waits until the output not yet consumed contains `text`; returns that output (up to
    /// and including `text`), or nil after `seconds`.
    @discardableResult
    func expect(_ text: String, seconds: Double = 10, while waiting: () -> Void = {}) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let all = output.text
            let from = consumed.map { min($0, all.endIndex) } ?? all.startIndex
            if let range = all[from...].range(of: text) {
                consumed = range.upperBound
                return String(all[from..<range.upperBound])
            }
            waiting()
            usleep(20_000)
        }
        return nil
    }

    /// Closes stdin and waits for the exit; kills the process after `seconds`.
    func finish(seconds: Double = 10) -> Int32? {
        try? input.fileHandleForWriting.close()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                return nil
            }
            usleep(10_000)
        }
        return process.terminationStatus
    }
}
