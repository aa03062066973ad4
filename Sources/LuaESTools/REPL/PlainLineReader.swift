import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Reads lines from standard input without prompts or editing, so a REPL session can be
/// scripted through a pipe (`esrun repl counter.lua < session.txt`).
public final class PlainLineReader: LineReader {
    /// A reader of the process's standard input.
    public init() {}

    /// The next line of standard input, or `.end`.
    public func readLine(prompt: String) -> LineInput {
        guard let line = Swift.readLine(strippingNewline: true) else { return .end }
        return .line(line)
    }
}
