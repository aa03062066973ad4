import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// HTTP commands over loopback: `esrun serve --port 0` driven by wrk, as a user's load test would.
extension Benchmark {
    static let hotLabel = "HTTP commands, one hot counter"
    static let spreadLabel = "HTTP commands on 10,000 counters"
    static let ceilingLabel = "HTTP ceiling: bare Hummingbird route"

    /// wrk's script (Sources/CToolScripts/lua/wrk_post.lua, compiled in).
    static let wrkScript = ToolScript.text("wrk_post")

    func httpCommands(script: String, dir: URL) throws {
        guard let executable = settings.executable else {
            return skipHTTP("no esrun binary given")
        }
        guard let wrk = Self.executable(named: "wrk") else {
            return skipHTTP("wrk not found: apt-get install -y wrk (scripts/bench.sh does)")
        }
        let wrkScript = dir.appendingPathComponent("post.lua").path
        try Self.wrkScript.write(toFile: wrkScript, atomically: true, encoding: .utf8)
        // The ceiling first, in the same run: every esrun figure below is shown as a share of it.
        var ceiling: Double?
        if wants(Self.ceilingLabel) {
            let bare = try RunningServer(executable: URL(fileURLWithPath: executable), arguments: ["bare-route", "--port", "0"],
                                         log: dir.appendingPathComponent("bare.log"))
            defer { bare.stop() }
            let line = try drive(wrk: wrk, script: wrkScript, port: bare.port, keys: settings.keys, label: Self.ceilingLabel)
            let rate = Self.field("requests", line) / (Self.field("duration_us", line) / 1e6)
            ceiling = rate
            report(Figure(name: Self.ceilingLabel, value: rate, unit: "requests/s",
                          detail: Self.latencies(line) + "wrk -t2 -c\(settings.connections) -d\(settings.httpSeconds)s, "
                            + "collects the body and answers JSON, nothing behind it"))
        }
        guard wants(Self.hotLabel) || wants(Self.spreadLabel) else { return }
        let store = settings.store?.serveArguments("http") ?? ["--db", dir.appendingPathComponent("http.db").path]
        let server = try RunningServer(executable: URL(fileURLWithPath: executable), arguments: [
            "serve", script, "--port", "0", "--workers", String(settings.workers), "--log-level", "error",
        ] + store, log: dir.appendingPathComponent("serve.log"))
        defer { server.stop() }
        for (label, keys) in [(Self.hotLabel, 1), (Self.spreadLabel, settings.keys)] where wants(label) {
            let before = Self.groupCommits(port: server.port)
            let line = try drive(wrk: wrk, script: wrkScript, port: server.port, keys: keys, label: label)
            let after = Self.groupCommits(port: server.port)
            func field(_ name: String) -> Double { Self.field(name, line) }
            guard field("non2xx") == 0, field("requests") > 0 else {
                throw EngineError.invalid("bench", "\(label): the server answered \(Int(field("non2xx"))) of "
                                            + "\(Int(field("requests"))) requests with an error status")
            }
            let errors = Int(field("socket_errors"))
            let rate = field("requests") / (field("duration_us") / 1e6)
            report(Figure(name: label, value: rate, unit: "commands/s",
                          detail: Self.latencies(line)
                            + "\(Int(field("requests"))) requests, wrk -t2 -c\(settings.connections) -d\(settings.httpSeconds)s"
                            + (keys > 1 ? ", \(keys) counters" : "") + (errors > 0 ? ", \(errors) socket errors" : "")
                            + Self.perTransaction(before, after)
                            + (ceiling.map { String(format: ", %.2f of the bare route", rate / $0) } ?? "")))
        }
        report(Figure(name: "peak memory, server", value: Double(server.peakMemoryKiB()) / 1024, unit: "MiB",
                      detail: "VmHWM of esrun serve after both HTTP workloads"))
    }

    /// A number from wrk's `ESRUN name=value ...` line.
    static func field(_ name: String, _ line: String) -> Double {
        let pair = line.split(separator: " ").first { $0.hasPrefix(name + "=") }
        return pair.flatMap { Double($0.dropFirst(name.count + 1)) } ?? 0
    }

    /// "p50 0.631 ms, p99 2.702 ms, max 12.0 ms, " from wrk's line.
    static func latencies(_ line: String) -> String {
        String(format: "p50 %.3f ms, p99 %.3f ms, max %.1f ms, ", field("p50_us", line) / 1000,
               field("p99_us", line) / 1000, field("max_us", line) / 1000)
    }

    private func skipHTTP(_ why: String) {
        for label in [Self.ceilingLabel, Self.hotLabel, Self.spreadLabel, "peak memory, server"] {
            report(Figure(name: label, value: 0, unit: "skipped", detail: why))
        }
    }

    /// The server's group commits and the commands they committed, from `/metrics`.
    static func groupCommits(port: Int) -> (commits: Double, commands: Double)? {
        guard let url = URL(string: "http://127.0.0.1:\(port)/metrics") else { return nil }
        let done = DispatchSemaphore(value: 0)
        let body = ResponseBody()
        URLSession.shared.dataTask(with: url) { data, _, _ in
            body.set(data.map { String(decoding: $0, as: UTF8.self) })
            done.signal()
        }.resume()
        guard done.wait(timeout: .now() + 10) == .success, let text = body.get() else { return nil }
        func value(_ name: String) -> Double? {
            text.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.dropFirst(name.count + 1)) }
        }
        guard let commits = value("esrun_store_commits_total"), let commands = value("esrun_store_commit_commands_total") else {
            return nil
        }
        return (commits, commands)
    }

    /// ", 12.3 commands per transaction" between two readings of `groupCommits`.
    static func perTransaction(_ before: (commits: Double, commands: Double)?,
                               _ after: (commits: Double, commands: Double)?) -> String {
        guard let before, let after, after.commits > before.commits else { return "" }
        return String(format: ", %.1f commands per transaction", (after.commands - before.commands) / (after.commits - before.commits))
    }

    /// Runs wrk for `settings.httpSeconds` and returns its `ESRUN ...` line.
    private func drive(wrk: String, script: String, port: Int, keys: Int, label: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: wrk)
        process.arguments = ["-t2", "-c\(settings.connections)", "-d\(settings.httpSeconds)s", "--latency",
                             "-s", script, "http://127.0.0.1:\(port)/Counter/hot/increment"]
        var environment = ProcessInfo.processInfo.environment
        environment["ESRUN_KEYS"] = String(keys)
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let started = Date()
        while process.isRunning {
            Thread.sleep(forTimeInterval: 0.25)
            progress(label, min(Date().timeIntervalSince(started) / Double(settings.httpSeconds), 1))
        }
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0, let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ESRUN ") }) else {
            throw EngineError.invalid("bench", "wrk failed (status \(process.terminationStatus)): \(text)")
        }
        return String(line)
    }

    /// The first executable file called `name` on PATH.
    static func executable(named name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

/// The text of one response, handed from URLSession's thread to the waiting one.
private final class ResponseBody: @unchecked Sendable {
    // @unchecked: `text` is only read and written while `lock` is held.
    private let lock = NSLock()
    private var text: String?
    func set(_ value: String?) { lock.withLock { text = value } }
    func get() -> String? { lock.withLock { text } }
}
