import Foundation
import LuaESCore
import LuaESTestSupport
@testable import LuaESStore
import Testing

/// The SQLite store killed mid-write, and shared by two processes. Both run the
/// `store-probe` executable (Sources/store-probe), built next to the test bundle.
@Suite("SQLite crash and multi-process", .serialized)
struct CrashTests {
    /// The fields `store-probe append-loop` puts in each event's data.
    struct ProbeData: Decodable {
        let commit: String
        let batches: Int
        let batch: Int
        let size: Int
        let index: Int
    }

    @Test func killedWritersNeverLoseAcknowledgedOrLeaveHalfCommits() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("crash.db")
        let keys = ["k1", "k2", "k3"]
        var acknowledged: [String: Int64] = [:]
        var kills = 0
        for run in 1...24 {
            let output = directory.url.appendingPathComponent("run-\(run).out")
            let process = try Probe.launch(["append-loop", path] + keys, output: output)
            usleep(UInt32.random(in: 50_000...300_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal {
                kills += 1
            } else {
                Issue.record("store-probe exited by itself (\(process.terminationStatus)): \(Probe.errors(of: process))")
            }
            for line in try Probe.lines(of: output) {
                let fields = line.split(separator: " ")
                try #require(fields.count == 3 && fields[0] == "ack", "unexpected probe output: \(line)")
                let (key, version) = (String(fields[1]), try #require(Int64(fields[2])))
                #expect(version > acknowledged[key, default: 0], "acks of \(key) must increase: \(line)")
                acknowledged[key] = version
            }
            // Reopening after every kill recovers the WAL; the cheap checks run each time.
            let store = try SQLiteEventStore(path: path)
            for key in keys {
                let versions = try store.events(of: StreamID(aggregate: "Probe", key: key)).map(\.version)
                #expect(versions == Array(0..<Int64(versions.count)).map { $0 + 1 }, "run \(run): \(key) has gaps")
                #expect(Int64(versions.count) >= acknowledged[key, default: 0],
                        "run \(run): \(key) has \(versions.count) events, \(acknowledged[key, default: 0]) were acknowledged")
            }
            try store.close()
        }
        // Every commit of every run is still in the file: check them all once.
        try verify(path: path, keys: keys, acknowledged: acknowledged)
        #expect(kills >= 20, "the probe should have been killed while appending, not have exited")
        #expect(acknowledged.values.reduce(0, +) > 0, "the probe acknowledged nothing in 24 runs")
    }

    /// Every acknowledged event is stored, versions are contiguous, and every commit is
    /// whole: all of its batches, each with all of its events, or nothing of it.
    func verify(path: String, keys: [String], acknowledged: [String: Int64]) throws {
        let store = try SQLiteEventStore(path: path)
        defer { try? store.close() }
        var total = 0
        var commits: [String: [(data: ProbeData, event: RecordedEvent)]] = [:]
        let decoder = JSONDecoder()
        for key in keys {
            let events = try store.events(of: StreamID(aggregate: "Probe", key: key))
            total += events.count
            #expect(events.map(\.version) == Array(0..<Int64(events.count)).map { $0 + 1 }, "versions of \(key) are not 1...n")
            #expect(Int64(events.count) >= acknowledged[key, default: 0])
            for event in events {
                let data = try decoder.decode(ProbeData.self, from: Data(event.data.utf8))
                commits[data.commit, default: []].append((data, event))
            }
        }
        let feed = try store.events(after: 0, limit: Int.max)
        #expect(feed.count == total, "the feed has \(feed.count) events, the streams \(total)")
        #expect(zip(feed, feed.dropFirst()).allSatisfy { $0.position < $1.position })
        for (commit, parts) in commits {
            let batchCount = parts[0].data.batches
            let byBatch = Dictionary(grouping: parts, by: \.data.batch)
            #expect(Set(byBatch.keys) == Set(0..<batchCount), "commit \(commit) is missing batches")
            for (batch, events) in byBatch {
                let size = events[0].data.size
                let sorted = events.sorted { $0.data.index < $1.data.index }
                #expect(sorted.map(\.data.index) == Array(0..<size),
                        "commit \(commit) batch \(batch) holds \(events.count) of \(size) events")
                #expect(Set(sorted.map(\.event.stream)).count == 1)
                #expect(zip(sorted, sorted.dropFirst()).allSatisfy { $0.event.version + 1 == $1.event.version })
            }
        }
    }

    @Test func twoProcessesAppendingToOneStreamLoseNothing() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("compete.db")
        try SQLiteEventStore(path: path).close()  // created once, so both start on the same schema
        let perProcess = 400
        let outputs = (1...2).map { directory.url.appendingPathComponent("compete-\($0).out") }
        let processes = try outputs.map { try Probe.launch(["compete", path, "race", "\(perProcess)", "2"], output: $0) }
        for process in processes {
            try Probe.wait(for: process, seconds: 120)
            #expect(process.terminationReason == .exit && process.terminationStatus == 0,
                    "store-probe compete failed: \(Probe.errors(of: process))")
        }

        var ackedVersions: [Int64] = []
        var conflictsReported = 0
        var acksByProcess: [Int32: Int] = [:]
        for (process, output) in zip(processes, outputs) {
            let lines = try Probe.lines(of: output)
            let acks = lines.filter { $0.hasPrefix("ack ") }
            let conflicts = lines.filter { $0.hasPrefix("conflict ") }
            #expect(lines.last == "done \(acks.count) \(conflicts.count)", "counts and lines disagree")
            #expect(acks.count == perProcess)
            ackedVersions += acks.compactMap { Int64($0.split(separator: " ")[2]) }
            for conflict in conflicts {
                let numbers = conflict.split(separator: " ").dropFirst().compactMap { Int64($0) }
                #expect(numbers.count == 2 && numbers[1] > numbers[0], "a conflict must see a newer version: \(conflict)")
            }
            conflictsReported += conflicts.count
            acksByProcess[process.processIdentifier] = acks.count
        }
        #expect(ackedVersions.sorted() == Array(1...Int64(2 * perProcess)), "duplicate or missing versions")

        let store = try SQLiteEventStore(path: path)
        defer { try? store.close() }
        let events = try store.events(of: StreamID(aggregate: "Probe", key: "race"))
        #expect(events.map(\.version) == Array(1...Int64(2 * perProcess)))
        for (pid, count) in acksByProcess {
            #expect(events.filter { $0.data == #"{"pid":\#(pid)}"# }.count == count, "events of \(pid) lost")
        }
        // Not asserted (it depends on scheduling), but shown: how often the two collided.
        print("two-process race: \(conflictsReported) conflicts reported for \(2 * perProcess) appends")
    }
}

/// Finding, running and reading the `store-probe` executable.
enum Probe {
    /// The built `store-probe`: beside the test bundle (`.build/<triple>/debug`), or in
    /// the package's `.build/debug`.
    static func executable() throws -> URL {
        let fileManager = FileManager.default
        var folders = [URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent(),
                       Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
        folders += Bundle.allBundles.filter { $0.bundlePath.hasSuffix(".xctest") }.map { $0.bundleURL.deletingLastPathComponent() }
        var root = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { root.deleteLastPathComponent() }
        folders.append(root.appendingPathComponent(".build/debug"))
        let candidates = folders.map { $0.appendingPathComponent("store-probe") }
        guard let found = candidates.first(where: { fileManager.isExecutableFile(atPath: $0.path) }) else {
            throw ProbeMissing(searched: candidates.map(\.path))
        }
        return found
    }

    struct ProbeMissing: Error, CustomStringConvertible {
        let searched: [String]
        var description: String {
            "store-probe was not found; build it with `swift build --product store-probe` (looked for "
                + searched.joined(separator: ", ") + ")"
        }
    }

    /// Starts `store-probe arguments`, its stdout going to `output` (a file, so that what
    /// it printed before a SIGKILL is all there) and its stderr beside it.
    static func launch(_ arguments: [String], output: URL) throws -> Process {
        let process = Process()
        process.executableURL = try executable()
        process.arguments = arguments
        let errors = output.appendingPathExtension("err")
        for file in [output, errors] where !FileManager.default.createFile(atPath: file.path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: file.path])
        }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        errorFiles.withLock { $0[ObjectIdentifier(process)] = errors }
        try process.run()
        return process
    }

    /// Waits for `process` to exit; kills it and throws after `seconds`.
    static func wait(for process: Process, seconds: Double) throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                throw TimedOut(seconds: seconds, arguments: process.arguments ?? [])
            }
            usleep(10_000)
        }
        process.waitUntilExit()
    }

    struct TimedOut: Error, CustomStringConvertible {
        let seconds: Double
        let arguments: [String]
        var description: String { "store-probe \(arguments.joined(separator: " ")) ran past \(seconds) s" }
    }

    /// The complete lines in `output` (a line cut by a SIGKILL is left out).
    static func lines(of output: URL) throws -> [String] {
        let text = try String(contentsOf: output, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()  // after the last "\n": empty, or a cut line
        return lines
    }

    /// What `process` wrote to stderr.
    static func errors(of process: Process) -> String {
        guard let file = errorFiles.withLock({ $0[ObjectIdentifier(process)] }) else { return "" }
        return (try? String(contentsOf: file, encoding: .utf8)) ?? ""
    }

    private static let errorFiles = Locked<[ObjectIdentifier: URL]>([:])
}
