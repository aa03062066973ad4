import Foundation
import Testing

/// `esrun repl` end to end: scripted through a pipe, driven line by line, and through a
/// pseudo-terminal (line editing, completion, history, Ctrl-C) with python3's pexpect.
@Suite struct ReplTests {
    @Test func aPipedSessionRunsCommandsAndMetaCommands() throws {
        let dir = try ESRunProcess.workspace()
        let input = """
            Counter("c1"):increment{ by = 2 }
            Counter("c1"):increment{ by = 5 }
            = Counter("c1").state.count * 10
            Counter("c1"):increment{ by = 99 }
            = missing.field
            .step Counter c1
            .diff Counter c1 1 2
            .events
            for i = 1, 2 do
              print("line " .. i)
            end
            .quit
            = "not reached"
            """
        let r = try ESRunProcess.run(["repl", "counter.lua", "--db", "repl.db"], in: dir, input: input, seconds: 20)
        #expect(!r.timedOut)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
            Counter("c1"):increment: committed 1 event
              v1 Incremented { by = 2 }
              state at v1: { count = 2 }
            Counter("c1"):increment: committed 1 event
              v2 Incremented { by = 5 }
              state at v2: { count = 7 }
            70
            stdin:1: fault: limit_reached: counter is at its limit
            script: error: repl: stdin:1: attempt to index a nil value (global 'missing')
            Counter("c1") initial state: { count = 0 }
            v1 Incremented { by = 2 }
              count: 0 -> 2
            v2 Incremented { by = 5 }
              count: 2 -> 7
            (2 events replayed)
            Counter("c1") v1 -> v2:
              count: 2 -> 7
            #1 Counter("c1") v1 Incremented { by = 2 }
            #2 Counter("c1") v2 Incremented { by = 5 }
            line 1
            line 2

            """, "\(r.stdout)")
        let state = try ESRunProcess.run(["state", "counter.lua", "Counter", "c1", "--db", "repl.db"], in: dir)
        #expect(state.stdout == #"{"version":2,"state":{"count":7}}"# + "\n")
    }

    /// The README's transcript, replayed through a pipe: same output, minus prompts and banner.
    @Test func theReadmeTranscriptIsWhatTheREPLPrints() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let section = try #require(text.components(separatedBy: "## REPL\n").dropFirst().first)
        let block = try #require(section.components(separatedBy: "```\n").dropFirst().first)
        let lines = block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.isEmpty }
        #expect(lines.first == "$ esrun repl scripts/counter.lua --memory")
        let input = lines.filter { $0.hasPrefix("> ") }.map { String($0.dropFirst(2)) }
        let expected = lines.dropFirst(2).filter { !$0.hasPrefix("> ") }
        let dir = try ESRunProcess.workspace()
        let r = try ESRunProcess.run(["repl", "counter.lua", "--memory"], in: dir, input: input.joined(separator: "\n"))
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").map(String.init) == Array(expected), "\(r.stdout)")
    }

    @Test func reloadWithABrokenScriptKeepsTheOldRules() throws {
        let dir = try ESRunProcess.workspace()
        let repl = try REPLProcess(["counter.lua", "--memory"], in: dir)
        repl.send(#"Counter("c1"):increment{ by = 2 }"#)
        #expect(repl.expect("state at v1: { count = 2 }") != nil)
        let script = dir.appendingPathComponent("counter.lua")
        let good = try String(contentsOf: script, encoding: .utf8)
        try good.replacingOccurrences(of: "local LIMIT = 30", with: "local LIMIT = = 30").write(to: script, atomically: true, encoding: .utf8)
        repl.send(".reload")
        #expect(repl.expect("reload failed, keeping the previous rules: script: syntax: counter.lua:9:") != nil, "\(repl.output.text)")
        repl.send(#"Counter("c1"):increment{ by = 29 }"#) // old rules: the limit is still 30
        #expect(repl.expect("fault: limit_reached") != nil, "\(repl.output.text)")
        try good.replacingOccurrences(of: "local LIMIT = 30", with: "local LIMIT = 100").write(to: script, atomically: true, encoding: .utf8)
        repl.send(".reload")
        #expect(repl.expect("reloaded counter.lua: Counter") != nil, "\(repl.output.text)")
        repl.send(#"Counter("c1"):increment{ by = 29 }"#)
        #expect(repl.expect("state at v2: { count = 31 }") != nil, "\(repl.output.text)")
        #expect(repl.finish() == 0)
    }

    @Test func sigintStopsAnInfiniteLoopAndTheSessionGoesOn() throws {
        let dir = try ESRunProcess.workspace()
        let repl = try REPLProcess(["counter.lua", "--memory"], in: dir)
        repl.send("= 'ready'")
        #expect(repl.expect("\"ready\"") != nil) // the session is reading: SIGINT is handled from here on
        repl.send("while true do end")
        usleep(200_000)
        let pid = repl.process.processIdentifier
        let stopped = repl.expect("limit: interrupted: repl (stdin:1): interrupted", seconds: 10) {
            kill(pid, SIGINT) // again until it lands while the loop runs
        }
        #expect(stopped != nil, "\(repl.output.text)")
        usleep(200_000) // a SIGINT still in flight lands while the session waits for input
        repl.send(#"Counter("c1"):increment{ by = 3 }"#)
        #expect(repl.expect("state at v1: { count = 3 }") != nil, "\(repl.output.text)")
        #expect(repl.finish() == 0)
    }

    static let pexpectAvailable: Bool = {
        (try? ReplTests.python(["-c", "import pexpect"], in: FileManager.default.temporaryDirectory, seconds: 20).status) == 0
    }()

    @Test(.enabled(if: pexpectAvailable, "python3 pexpect is missing (apt-get install python3-pexpect): terminal test skipped"))
    func aTerminalSessionEditsCompletesAndCancels() throws {
        let dir = try ESRunProcess.workspace()
        try Self.terminalScript.write(to: dir.appendingPathComponent("terminal.py"), atomically: true, encoding: .utf8)
        let r = try Self.python(["terminal.py", ESRunProcess.binary.path], in: dir, seconds: 40)
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.contains("TERMINAL-OK"), "\(r.output)")
        let history = (try? String(contentsOf: dir.appendingPathComponent("history.txt"), encoding: .utf8)) ?? ""
        #expect(history.contains("=\\0406\\040*\\0407"), "\(history)") // libedit's file format escapes spaces
    }

    /// Runs python3 with a deadline; output is stdout and stderr together.
    static func python(_ arguments: [String], in directory: URL, seconds: Double) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.currentDirectoryURL = directory
        let log = directory.appendingPathComponent(".python-\(UUID().uuidString)")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning {
            if Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                break
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// Drives `esrun repl` through a pseudo-terminal. Every expect has a timeout.
    static let terminalScript = #"""
        import os, sys, time
        import pexpect

        esrun = sys.argv[1]
        env = dict(os.environ, TERM="xterm")
        c = pexpect.spawn(esrun, ["repl", "counter.lua", "--memory", "--history-file", "history.txt"],
                          env=env, timeout=5, encoding="utf-8", dimensions=(24, 200))
        c.logfile_read = sys.stdout

        c.expect_exact("esrun repl with Counter")
        c.expect_exact("> ")
        # tab completion: the aggregate, then the command after Counter("c1"):
        c.send("Coun\t"); time.sleep(0.2)
        c.send('("c1"):incr\t'); time.sleep(0.2)
        c.send("{ by = 2 }\r")
        c.expect_exact("state at v1: { count = 2 }")
        # several candidates are listed
        c.send("string.\t")
        c.expect_exact("reverse")
        c.send("\x15")  # Ctrl-U: kill the line
        # editing: backspace, then the history's previous line with the up arrow
        c.send("= 6 * 7x\x7f\r")
        c.expect_exact("42")
        c.send("\x1b[A\r")
        c.expect_exact("42")
        # Ctrl-C at the prompt cancels an unfinished chunk
        c.send("if true then\r")
        c.expect_exact(">> ")
        c.send("\x03")
        c.expect_exact("^C")
        c.send("= 'after cancel'\r")
        c.expect_exact('"after cancel"')
        # Ctrl-C stops an infinite loop; the prompt comes back and the next command works
        c.send("while true do end\r")
        time.sleep(0.3)
        for _ in range(20):
            c.sendintr()
            if c.expect_exact(["interrupted", pexpect.TIMEOUT], timeout=0.5) == 0:
                time.sleep(0.2)  # a SIGINT still in flight lands while the prompt waits
                break
        else:
            raise SystemExit("the loop was not interrupted")
        c.send('= Counter("c1").version * 1000\r')
        c.expect_exact("1000")
        # Ctrl-D quits
        c.send("\x04")
        c.expect(pexpect.EOF)
        c.close()
        if c.exitstatus != 0:
            raise SystemExit("exit status %r" % c.exitstatus)
        print("\nTERMINAL-OK")
        """#
}
