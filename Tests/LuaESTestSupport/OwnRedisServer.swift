import Foundation

/// A Redis server of one test's own (scripts/redis-test-server.sh), which the test may stop
/// and start again; stopped and deleted when it goes away.
public final class OwnRedisServer: @unchecked Sendable {
    // @unchecked: every property is set in init and only read afterwards.
    public let url: String
    public let tlsURL: String
    public let directory: URL

    /// - Throws: when the script could not start a server (see its stderr).
    public init() throws {
        directory = temporaryDirectory().appendingPathComponent("redis")
        let settings = try Self.script("start", directory.path)
        var values: [String: String] = [:]
        for line in settings.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let url = values["ESRUN_TEST_REDIS_URL"], let tlsURL = values["ESRUN_TEST_REDISS_URL"] else {
            throw ScriptFailure(message: "redis-test-server.sh printed no URLs: \(settings)")
        }
        self.url = url
        self.tlsURL = tlsURL
    }

    deinit {
        _ = try? Self.script("stop", directory.path)  // only a throwaway server is at stake
    }

    /// Stops the server at once (SHUTDOWN NOSAVE): its snapshots are gone.
    public func down() throws { try Self.script("down", directory.path) }

    /// Starts it again on the same port, empty.
    public func up() throws { try Self.script("up", directory.path) }

    public struct ScriptFailure: Error, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Runs the script through posix_spawn and waitpid: Foundation's `Process` was seen to
    /// never notice the script's exit here (its child left a zombie and `waitUntilExit` hung),
    /// perhaps because the script leaves a daemon behind.
    @discardableResult
    private static func script(_arguments: [String]) throws -> String {
        let output = temporaryDirectory().appendingPathComponent("redis-test-server.out").path
        let script = scriptsDirectory.appendingPathComponent("redis-test-server.sh").path
        // sh sends the script's stdout to a file: nothing waits on a pipe a daemon may hold
        let argv = ["/bin/sh", "-c", "\"$0\" \"$@\" > \"$OUT\" < /dev/null", script] + _arguments
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" } + ["OUT=\(output)"]
        var cArguments = argv.map { strdup($0) } + [nil]
        var cEnvironment = environment.map { strdup($0) } + [nil]
        defer {
            for pointer in cArguments { free(pointer) }
            for pointer in cEnvironment { free(pointer) }
        }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", nil, nil, &cArguments, &cEnvironment)
        guard spawned == 0 else { throw ScriptFailure(message: "posix_spawn failed: \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0, exitCode == 0 else {
            throw ScriptFailure(message: "redis-test-server.sh \(_arguments.joined(separator: " ")) failed (status \(status))")
        }
        return (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    }

    @discardableResult
    private static func script(_ arguments: String...) throws -> String {
        try script(_arguments: arguments)
    }
}
