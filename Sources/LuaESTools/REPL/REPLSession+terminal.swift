import CLibEdit
import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Running a session on the process's standard input and output (`esrun repl`).
extension REPLSession {
    /// Where the line history is kept: `$ESRUN_HISTORY`, else `~/.esrun_history` (nil without a home).
    public static func defaultHistoryFile(environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let path = environment["ESRUN_HISTORY"], !path.isEmpty { return path }
        guard let home = environment["HOME"], !home.isEmpty else { return nil }
        return (home as NSString).appendingPathComponent(".esrun_history")
    }

    /// Prints a line on standard output at once (so it interleaves with what Lua prints).
    public static func standardOutput(_ text: String) {
        esr_stdout_write(text + "\n")
    }

    /// Runs until `.quit` or end of input: with line editing, history and completion when
    /// standard input is a terminal, plain lines otherwise (so sessions can be piped in).
    /// SIGINT stops a running chunk, whatever the input.
    public func runOnStandardInput(historyFile: String?) {
        let signals = InterruptOnSignal { [interrupts] in interrupts.interrupt() }
        defer { withExtendedLifetime(signals) {} }
        if isatty(STDIN_FILENO) != 0,
           let editor = LineEditor(historyFile: historyFile, completer: { [unowned self] text in completer.complete(text) }) {
            let names = engine.domain.aggregates.map(\.name)
            write("esrun repl" + (names.isEmpty ? "" : " with " + names.joined(separator: ", "))
                  + ": .help for help, Ctrl-D to quit")
            run(reader: editor)
        } else {
            run(reader: PlainLineReader())
        }
    }
}
