import Foundation
import Testing

/// `esrun tail`: the global feed as NDJSON, through the built binary.
@Suite struct TailCommandTests {
    /// Runs `esrun exec` and fails the test unless it succeeds.
    private func exec(_ arguments: [String], in dir: URL) throws {
        let r = try ESRunProcess.run(["exec"] + arguments, in: dir)
        #expect(r.status == 0, "exec \(arguments): \(r.stderr)")
    }

    /// Each line of `stdout` as a JSON object.
    private func lines(_ stdout: String) throws -> [[String: Any]] {
        try stdout.split(separator: "\n").map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        }
    }

    private func positions(_ events: [[String: Any]]) -> [Int] { events.compactMap { $0["position"] as? Int } }

    /// Two Stock events, then two Order events, then one Stock event: positions 1...5.
    private func ordersWorkspace() throws -> URL {
        let dir = try ESRunProcess.workspace()
        try exec(["orders.lua", "Stock", "tea", "receive", #"{"qty":10}"#], in: dir)
        try exec(["orders.lua", "Stock", "tea", "reserve", #"{"qty":2,"order":"o1"}"#], in: dir)
        try exec(["orders.lua", "Order", "o1", "add_line", #"{"sku":"tea","qty":2,"price":450}"#], in: dir)
        try exec(["orders.lua", "Order", "o1", "place"], in: dir)
        try exec(["orders.lua", "Stock", "tea", "receive", #"{"qty":5}"#], in: dir)
        return dir
    }

    @Test func printsTheWholeFeedInPositionOrderAndExits() throws {
        let dir = try ESRunProcess.workspace()
        for _ in 1...3 { try exec(["counter.lua", "Counter", "c1", "increment", #"{"by":2}"#], in: dir) }
        try exec(["bank.lua", "Account", "a1", "open", #"{"owner":"ada"}"#], in: dir)
        let r = try ESRunProcess.run(["tail"], in: dir, seconds: 30)
        #expect(r.status == 0 && !r.timedOut, "\(r.stderr)")
        let events = try lines(r.stdout)
        #expect(positions(events) == [1, 2, 3, 4])
        #expect(events.map { $0["aggregate"] as? String } == ["Counter", "Counter", "Counter", "Account"])
        #expect(events.map { $0["version"] as? Int } == [1, 2, 3, 1])
        // The same text as the event objects `exec` printed (RecordedEvent.json, as GET /events).
        let history = try ESRunProcess.run(["history", "counter.lua", "Counter", "c1"], in: dir)
        let lines = r.stdout.split(separator: "\n").prefix(3).joined(separator: ",")
        #expect(history.stdout == "[" + lines + "]\n", "\(history.stdout)")
    }

    @Test func afterAggregateAndLimitSelectEvents() throws {
        let dir = try ordersWorkspace()
        let after = try ESRunProcess.run(["tail", "--after", "3"], in: dir)
        #expect(after.status == 0, "\(after.stderr)")
        #expect(positions(try lines(after.stdout)) == [4, 5])
        let stock = try lines(try ESRunProcess.run(["tail", "--aggregate", "Stock"], in: dir).stdout)
        #expect(positions(stock) == [1, 2, 5])
        #expect(stock.allSatisfy { $0["aggregate"] as? String == "Stock" })
        let orders = try lines(try ESRunProcess.run(["tail", "--aggregate", "Order", "--after", "3"], in: dir).stdout)
        #expect(positions(orders) == [4])
        #expect(try ESRunProcess.run(["tail", "--aggregate", "Nothing"], in: dir).stdout == "")
        let limited = try lines(try ESRunProcess.run(["tail", "--limit", "2"], in: dir).stdout)
        #expect(positions(limited) == [1, 2])
        let limitedStock = try lines(try ESRunProcess.run(["tail", "--aggregate", "Stock", "--limit", "2"], in: dir).stdout)
        #expect(positions(limitedStock) == [1, 2])
        #expect(try ESRunProcess.run(["tail", "--limit", "0"], in: dir).stdout == "")
        #expect(try ESRunProcess.run(["tail", "--after", "5"], in: dir).stdout == "")
    }

    @Test func invalidPositionsAreExitTwo() throws {
        let dir = try ESRunProcess.workspace()
        let r = try ESRunProcess.run(["tail", "--after", "-1"], in: dir)
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("invalid: bad_cursor: --after is a position or version, 0 or more, not -1"), "\(r.stderr)")
        #expect(r.stdout == "")
        let limit = try ESRunProcess.run(["tail", "--limit", "-3"], in: dir)
        #expect(limit.status == 2 && limit.stderr.contains("--limit"), "\(limit.stderr)")
    }

    @Test func followSeesAnEventAnotherProcessAppendsAndStopsOnSIGTERM() throws {
        let dir = try ESRunProcess.workspace()
        try exec(["counter.lua", "Counter", "c1", "increment"], in: dir)
        let tail = try TailProcess(["--follow"], in: dir)
        #expect(tail.waitForLines(1), "\(tail.stdout)")
        try exec(["counter.lua", "Counter", "c2", "increment", #"{"by":3}"#], in: dir)
        #expect(tail.waitForLines(2), "\(tail.stdout)")
        let events = try lines(tail.stdout)
        #expect(positions(events) == [1, 2])
        #expect(events.last?["key"] as? String == "c2")
        tail.process.terminate()
        #expect(tail.waitForExit(seconds: 3), "tail --follow did not stop on SIGTERM")
        #expect(tail.process.terminationReason == .exit && tail.process.terminationStatus == 0)
    }

    @Test func followWithAggregateSkipsOthers() throws {
        let dir = try ordersWorkspace()
        let tail = try TailProcess(["--follow", "--aggregate", "Order", "--after", "4"], in: dir)
        try exec(["orders.lua", "Stock", "tea", "receive", #"{"qty":1}"#], in: dir)
        try exec(["orders.lua", "Order", "o2", "add_line", #"{"sku":"tea","qty":1,"price":450}"#], in: dir)
        #expect(tail.waitForLines(1), "\(tail.stdout)")
        #expect(positions(try lines(tail.stdout)) == [7])
        tail.process.interrupt()
        #expect(tail.waitForExit(seconds: 3), "tail --follow did not stop on SIGINT")
        #expect(tail.process.terminationReason == .exit && tail.process.terminationStatus == 0)
    }

    /// More than a pipe holds (64 KiB): tail blocks writing, the reader closes, write(2) fails with EPIPE.
    @Test func aReaderClosingThePipeEndsItQuietly() throws {
        let dir = try ESRunProcess.workspace()
        try """
            local Counter = require("counter")
            for i = 1, 1500 do Counter("k" .. i):increment{ by = 1 } end
            """.write(to: dir.appendingPathComponent("many.lua"), atomically: true, encoding: .utf8)
        let run = try ESRunProcess.run(["many.lua"], in: dir, seconds: 120)
        #expect(run.status == 0, "\(run.stderr)")
        let tail = try TailProcess([], in: dir, collecting: false)
        let line = try #require(tail.readLine())
        #expect(line.hasPrefix(#"{"aggregate":"Counter","key":"k1","#), "\(line)")
        tail.closeOutput()
        #expect(tail.waitForExit(seconds: 10), "tail did not stop when its reader went away")
        #expect(tail.process.terminationReason == .exit && tail.process.terminationStatus == 0)
        #expect(tail.stderr == "", "\(tail.stderr)")
    }

    /// With --follow and nothing new to write, tail still notices the reader has gone.
    @Test func aReaderClosingThePipeEndsAQuietFollow() throws {
        let dir = try ESRunProcess.workspace()
        try exec(["counter.lua", "Counter", "c1", "increment"], in: dir)
        let tail = try TailProcess(["--follow"], in: dir, collecting: false)
        #expect(tail.readLine() != nil)
        usleep(300_000) // tail is now waiting for new events
        tail.closeOutput()
        #expect(tail.waitForExit(seconds: 5), "tail --follow did not stop when its reader went away")
        #expect(tail.process.terminationReason == .exit && tail.process.terminationStatus == 0)
        #expect(tail.stderr == "", "\(tail.stderr)")
    }
}

/// `esrun tail` running in the background with its standard output on a pipe.
private final class TailProcess {
    let process = Process()
    private let pipe = Pipe()
    private let output = Locked(Data())
    private let errors: URL

    /// With `collecting` false, nothing reads the pipe but `readLine`: what tail writes stays in the pipe.
    init(_ arguments: [String], in directory: URL, collecting: Bool = true) throws {
        // The test process ignores SIGPIPE and a child inherits that; GNU env puts the
        // default action back, so a tail that forgot to ignore SIGPIPE would die of it here.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["--default-signal=PIPE", ESRunProcess.binary.path, "tail"] + arguments
        process.currentDirectoryURL = directory
        process.standardOutput = pipe
        errors = directory.appendingPathComponent(".tail-err-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errors)
        let output = self.output
        if collecting {
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let chunk = handle.availableData
                output.withLock { $0.append(chunk) }
            }
        }
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        pipe.fileHandleForReading.readabilityHandler = nil
    }

    var stdout: String { String(decoding: output.current, as: UTF8.self) }
    var stderr: String { (try? String(contentsOf: errors, encoding: .utf8)) ?? "" }

    /// Waits until at least `count` whole lines have arrived.
    func waitForLines(_ count: Int, seconds: Double = 15) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.current.filter({ $0 == UInt8(ascii: "\n") }).count >= count { return true }
            usleep(10_000)
        }
        return false
    }

    /// Reads up to and including the first newline, byte by byte; nil after `seconds` or at the end.
    func readLine(seconds: Double = 15) -> String? {
        let fd = pipe.fileHandleForReading.fileDescriptor
        let deadline = Date().addingTimeInterval(seconds)
        var line: [UInt8] = []
        while Date() < deadline {
            var ready = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 50) == 1 else { continue }
            var byte: UInt8 = 0
            guard read(fd, &byte, 1) == 1 else { return nil }
            line.append(byte)
            if byte == UInt8(ascii: "\n") { return String(decoding: line, as: UTF8.self) }
        }
        return nil
    }

    /// Closes the reading end: the consumer has gone.
    func closeOutput() {
        pipe.fileHandleForReading.readabilityHandler = nil
        try? pipe.fileHandleForReading.close()
    }

    /// Waits for the exit; false (and the process killed) after `seconds`.
    func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return false
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        return true
    }
}
