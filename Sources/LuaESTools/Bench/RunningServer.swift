import Foundation
import LuaES
import LuaESCore

/// `esrun serve` started as a child process on a free loopback port (`--port 0`). The one
/// place that starts it and reads its banner ("esrun serving X on http://127.0.0.1:PORT"):
/// the bench and the end-to-end tests share it.
public final class RunningServer: @unchecked Sendable {
    // @unchecked: every property is set in init and only read afterwards; Process is thread-safe to query.
    public let process: Process
    public let port: Int
    /// Where the server's stdout and stderr go (a pipe nobody reads could fill and block it).
    public let log: URL

    /// Starts `executable` with `arguments` (which should include `serve ... --port 0`) and waits for the banner.
    /// - Throws: `EngineError` (`unavailable`, `server_not_started`) with the server's output when it does not start.
    public init(executable: URL, arguments: [String], directory: URL? = nil, log: URL, seconds: Double = 60) throws {
        self.log = log
        process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        var found: Int?
        while found == nil && Date() < deadline && process.isRunning {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            if let range = text.range(of: " on http://127.0.0.1:") {
                found = Int(text[range.upperBound...].prefix { $0.isNumber })
            } else {
                usleep(20_000)
            }
        }
        guard let found else {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
            throw EngineError(kind: .unavailable, code: "server_not_started",
                              message: "esrun serve did not start: " + ((try? String(contentsOf: log, encoding: .utf8)) ?? ""))
        }
        port = found
    }

    /// `http://127.0.0.1:PORT`
    public var base: String { "http://127.0.0.1:\(port)" }

    /// What the server has printed so far.
    public var output: String { (try? String(contentsOf: log, encoding: .utf8)) ?? "" }

    public func peakMemoryKiB() -> Int { Benchmark.peakMemoryKiB(pid: String(process.processIdentifier)) }

    /// SIGTERM (a graceful stop: in-flight commands finish, the store closes), SIGKILL after
    /// `seconds`; returns the exit status.
    @discardableResult
    public func stop(seconds: Double = 15) -> Int32 {
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
