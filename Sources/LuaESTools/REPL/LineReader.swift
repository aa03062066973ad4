import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// What reading one line of input gave.
public enum LineInput: Equatable, Sendable {
    /// A line, without its newline.
    case line(String)
    /// Ctrl-C at the prompt: drop what was typed so far.
    case cancelled
    /// End of input (Ctrl-D, or the end of a piped script).
    case end
}

/// Where the REPL gets its lines: a terminal with line editing (`LineEditor`) or plain
/// standard input (`PlainLineReader`) when stdin is a pipe or a file.
public protocol LineReader: AnyObject {
    /// Reads one line, showing `prompt` when the reader is interactive.
    func readLine(prompt: String) -> LineInput
}
