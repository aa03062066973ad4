import Foundation
import Testing
import LuaES
import LuaESCore
import LuaESTools
import LuaESStore
import LuaESScripting

/// `esrun run --publish file:PATH` killed with SIGKILL between commit and publish: every
/// committed event still reaches the sink (at least once) after a restart.
@Suite("Publishing across kill -9", .serialized)
struct PublishTests {
    static let loop = """
    local T = aggregate("T", { snapshot_every = 0 })
    T:event("Ticked", { n = "integer" })
    function T.handle.tick(state, cmd) return T.Ticked{ n = cmd.n } end
    function T.replay.Ticked(state, ev) end
    local limit = tonumber(os.getenv("TICKS") or "0")
    local i = 0
    while limit == 0 or i < limit do
      i = i + 1
      T("k" .. (i % 7)):tick{ n = i }
    end
    """

    func launch(_ directory: URL, ticks: Int) throws -> Process {
        let process = Process()
        process.executableURL = ESRunProcess.binary
        process.arguments = ["run", "loop.lua", "--db", "pub.db", "--publish", "file:sink.ndjson"]
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(["TICKS": String(ticks)]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func committedIDs(_ directory: URL) throws -> [String] {
        let store = try SQLiteEventStore(path: directory.appendingPathComponent("pub.db").path)
        defer { try? store.close() }
        return try store.events(after: 0, limit: Int.max).map { try #require($0.eventID) }
    }

    func publishedIDs(_ directory: URL) throws -> [String] {
        let text = (try? String(contentsOf: directory.appendingPathComponent("sink.ndjson"), encoding: .utf8)) ?? ""
        // Complete lines only, as an NDJSON reader takes them: a kill in the middle of a write may
        // leave part of a line at the end (the next run cuts it and publishes that page again).
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast()  // "" after the last newline, or the torn line
        return try lines.map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let meta = try #require(object["meta"] as? [String: Any])
            #expect(meta["event_id"] as? String == object["event_id"] as? String)
            return try #require(object["event_id"] as? String)
        }
    }

    @Test func everyCommittedEventIsPublishedAtLeastOnce() throws {
        let directory = try ESRunProcess.workspace()
        try Self.loop.write(to: directory.appendingPathComponent("loop.lua"), atomically: true, encoding: .utf8)
        var behindAtKill = 0
        for _ in 1...5 {
            let process = try launch(directory, ticks: 0)
            usleep(UInt32.random(in: 400_000...900_000))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            #expect(process.terminationReason == .uncaughtSignal, "esrun should have been killed, not have exited")
            let committed = try committedIDs(directory)
            if !Set(committed).isSubset(of: Set(try publishedIDs(directory))) { behindAtKill += 1 }
        }
        // a last run that ends by itself publishes what the killed ones left behind
        let last = try launch(directory, ticks: 20)
        last.waitUntilExit()
        #expect(last.terminationStatus == 0)
        let committed = try committedIDs(directory)
        let published = try publishedIDs(directory)
        #expect(committed.count > 20)
        let missing = Set(committed).subtracting(published)
        #expect(missing.isEmpty, "\(missing.count) of \(committed.count) committed events never published")
        #expect(Set(published).isSubset(of: Set(committed)), "only committed events are published")
        #expect(behindAtKill > 0, "no kill landed between a commit and its publication")
        let checkpoint = try String(contentsOf: directory.appendingPathComponent("sink.ndjson.checkpoint"), encoding: .utf8)
        #expect(Int(checkpoint.trimmingCharacters(in: .whitespacesAndNewlines)) == committed.count)
    }

    @Test func badPublishTargetsAreUsageErrors() throws {
        let directory = try ESRunProcess.workspace()
        let outcome = try ESRunProcess.run(["run", "demo.lua", "--memory", "--publish", "ftp://x"], in: directory)
        #expect(outcome.status == 2, "\(outcome.stderr)")
        #expect(outcome.stderr.contains("invalid: bad_publish_target: --publish takes stdout"), "\(outcome.stderr)")
    }
}
