import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESPostgres
@testable import LuaESStore
import Testing

/// The database crashes in the middle of a load and comes back: during the outage every
/// append fails with a clear error that says whether trying again is safe, no acknowledged
/// append is lost (the server's crash recovery keeps every commit it acknowledged), and
/// appends go on once it is back. A cluster of its own, so the other tests keep theirs.
@Suite("PostgreSQL outage")
struct PostgresOutageTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/postgres-test-server.sh").path

    /// Runs the test server script with `arguments`; its stdout (the URL for `start`). Its
    /// output goes to a file (the server it starts inherits what the script had) and its end
    /// is polled with a deadline (Foundation's `waitUntilExit` was seen to hang here).
    @discardableResult
    static func server(_ arguments: String...) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("esrun-pg-script-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: output.path, contents: nil) else { throw StoreError.io("cannot create \(output.path)") }
        defer { try? FileManager.default.removeItem(at: output) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script] + arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(90)
        var status: Int32 = 0
        var reaped = false
        // waitpid, not isRunning: here Foundation was seen to leave the script a zombie it never noticed
        while !reaped, process.isRunning, Date() < deadline {
            reaped = waitpid(process.processIdentifier, &status, WNOHANG) == process.processIdentifier
            if !reaped { usleep(20_000) }
        }
        let succeeded = reaped ? (status & 0x7f) == 0 && (status >> 8) & 0xff == 0 : !process.isRunning && process.terminationStatus == 0
        guard succeeded else {
            kill(process.processIdentifier, SIGKILL)
            throw StoreError.io("postgres-test-server.sh \(arguments) failed")
        }
        return try String(contentsOf: output, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct Tally: Sendable {
        var acknowledged = 0
        var unavailable = 0
        var unknownOutcome = 0
        var acknowledgedAfterRestart = 0
        var other: [String] = []
    }

    @Test(.enabled(if: PostgresTestServer.isAvailable, "needs PostgreSQL's binaries (scripts/test.sh installs them)"))
    func aCrashMidLoadLosesNoAcknowledgedAppend() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("esrun-pg-outage-\(UUID().uuidString)").path
        let url = try Self.server("start", folder)
        defer { _ = try? Self.server("stop", folder) }
        let store = try PostgresEventStore(url: url + "?pool=4&connect_timeout=1")
        defer { try? store.close() }

        let writers = 4
        let phase = Locked(0)  // 0 before the crash, 1 while down, 2 after the restart
        let tallies = Locked([Tally](repeating: Tally(), count: writers))
        let acknowledged = Locked([Int64](repeating: 0, count: writers))
        let deadline = Date().addingTimeInterval(12)
        let load = DispatchGroup()
        for writer in 0..<writers {
            DispatchQueue.global().async(group: load) {
                let stream = StreamID(aggregate: "Counter", key: "w\(writer)")
                var version: Int64 = 0
                while Date() < deadline {
                    do {
                        try store.append(makeEvents(1, start: Int(version) + 1), to: stream, expectedVersion: version)
                        version += 1
                        let after = phase.current == 2
                        acknowledged.withLock { $0[writer] = version }
                        tallies.withLock {
                            $0[writer].acknowledged += 1
                            if after { $0[writer].acknowledgedAfterRestart += 1 }
                        }
                    } catch let error as StoreError where error.kind == .unavailable {
                        tallies.withLock { $0[writer].unavailable += 1 }
                        Thread.sleep(forTimeInterval: 0.05)
                    } catch let error as StoreError where error.description.contains("may or may not have been committed") {
                        tallies.withLock { $0[writer].unknownOutcome += 1 }
                        // the stream says whether it was: read it once the server answers again
                        while Date() < deadline {
                            if let read = try? store.version(of: stream) {
                                version = read
                                break
                            }
                            Thread.sleep(forTimeInterval: 0.05)
                        }
                    } catch {
                        tallies.withLock { $0[writer].other.append("\(error)") }
                        Thread.sleep(forTimeInterval: 0.05)
                        version = (try? store.version(of: stream)) ?? version
                    }
                }
            }
        }
        Thread.sleep(forTimeInterval: 3)
        try Self.server("crash", folder)
        phase.withLock { $0 = 1 }
        Thread.sleep(forTimeInterval: 3)
        try Self.server("resume", folder)
        phase.withLock { $0 = 2 }
        load.wait()

        let all = tallies.current
        #expect(all.flatMap(\.other).isEmpty, "every failure says whether to try again: \(all.flatMap(\.other).prefix(3))")
        #expect(all.reduce(0) { $0 + $1.unavailable + $1.unknownOutcome } > 0, "the crash was seen")
        #expect(all.allSatisfy { $0.acknowledgedAfterRestart > 0 }, "every writer went on after the restart: \(all)")
        for writer in 0..<writers {
            let events = try store.events(of: StreamID(aggregate: "Counter", key: "w\(writer)"))
            #expect(events.map(\.version) == (0..<events.count).map { Int64($0) + 1 }, "versions are contiguous")
            #expect(Int64(events.count) >= acknowledged.current[writer], "writer \(writer): no acknowledged append is lost")
        }
        print("PostgreSQL crash mid-load: \(all.reduce(0) { $0 + $1.acknowledged }) appends acknowledged, "
            + "\(all.reduce(0) { $0 + $1.unavailable }) unavailable, \(all.reduce(0) { $0 + $1.unknownOutcome }) with an unknown outcome")
    }
}
