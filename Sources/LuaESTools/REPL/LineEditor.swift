import CLibEdit
import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// Reads lines from a terminal with libedit: emacs-style editing, a history kept in a
/// file, tab completion, and Ctrl-C cancelling the line being typed.
///
/// While a line is edited the terminal's ISIG flag is off, so Ctrl-C arrives as a key
/// (bound to cancel); while a command runs it is on again and Ctrl-C is a SIGINT.
public final class LineEditor: LineReader {
    private let editor: OpaquePointer
    private let history: OpaquePointer
    private let historyFile: String?
    private let completer: (String) -> Completion
    private var prompt: UnsafeMutablePointer<CChar>
    private var cancelled = false

    /// - Parameters:
    ///   - historyFile: where lines are loaded from and saved to (nil: no file).
    ///   - completer: candidates for the text before the cursor.
    /// - Returns: nil when libedit cannot start (no terminal description, out of memory).
    public init?(program: String = "esrun", historyFile: String?, completer: @escaping (String) -> Completion) {
        setlocale(LC_CTYPE, "") // multibyte characters in the line
        guard let history = history_init() else { return nil }
        guard let editor = esr_el_open(program) else {
            history_end(history)
            return nil
        }
        self.editor = editor
        self.history = history
        self.historyFile = historyFile
        self.completer = completer
        self.prompt = strdup("> ")
        esr_history_set_size(history, 1000)
        esr_history_set_unique(history, 1)
        if let historyFile { esr_history_load(history, historyFile) } // a missing file is a first session
        esr_el_set_clientdata(editor, Unmanaged.passUnretained(self).toOpaque())
        esr_el_set_editor(editor, "emacs")
        esr_el_set_history(editor, history)
        esr_el_set_prompt(editor, editorPrompt)
        esr_el_add_function(editor, "esrun-complete", "complete a name", editorComplete)
        esr_el_add_function(editor, "esrun-cancel", "cancel the line", editorCancel)
        esr_el_bind(editor, "^I", "esrun-complete")
        esr_el_bind(editor, "^C", "esrun-cancel")
        esr_el_edit_tty(editor, "-isig")
    }

    deinit {
        el_end(editor)
        history_end(history)
        free(prompt)
    }

    /// Edits one line; non-blank lines go to the history (and its file).
    public func readLine(prompt text: String) -> LineInput {
        free(prompt)
        prompt = strdup(text)
        cancelled = false
        var count: Int32 = 0
        guard let raw = el_gets(editor, &count), count > 0 else {
            if cancelled {
                esr_stdout_write("^C\n")
                return .cancelled
            }
            esr_stdout_write("\n")
            return .end
        }
        var line = String(cString: raw)
        while line.last == "\n" || line.last == "\r" { line.removeLast() }
        if !line.trimmingCharacters(in: .whitespaces).isEmpty {
            esr_history_enter(history, line)
            if let historyFile { esr_history_save(history, historyFile) }
        }
        return .line(line)
    }

    fileprivate var promptPointer: UnsafeMutablePointer<CChar> { prompt }

    fileprivate func cancel() -> UInt8 {
        cancelled = true
        return UInt8(CC_EOF)
    }

    /// Inserts the longest common prefix of the candidates; lists them when that adds nothing.
    fileprivate func complete() -> UInt8 {
        guard let info = el_line(editor)?.pointee, let start = info.buffer, let cursor = info.cursor else {
            return UInt8(CC_ERROR)
        }
        let before = String(decoding: UnsafeRawBufferPointer(start: start, count: cursor - start), as: UTF8.self)
        let found = completer(before)
        guard let first = found.candidates.first else { return UInt8(CC_REFRESH_BEEP) }
        let common = found.candidates.dropFirst().reduce(first) { prefix, name in
            String(zip(prefix, name).prefix { $0 == $1 }.map(\.0))
        }
        if common.count > found.word.count {
            el_deletestr(editor, Int32(found.word.count))
            el_insertstr(editor, common)
            return UInt8(CC_REFRESH)
        }
        if found.candidates.count == 1 { return UInt8(CC_REFRESH) }
        esr_stdout_write("\n" + Self.columns(found.candidates) + "\n")
        return UInt8(CC_REDISPLAY)
    }

    /// Names in columns that fit 80 characters.
    static func columns(_ names: [String]) -> String {
        let width = (names.map(\.count).max() ?? 0) + 2
        let perLine = max(1, 80 / width)
        return stride(from: 0, to: names.count, by: perLine).map { row in
            names[row..<min(row + perLine, names.count)].map { $0.padding(toLength: width, withPad: " ", startingAt: 0) }
                .joined().trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}

/// The editor behind a libedit callback (its client data).
private func lineEditor(_ el: OpaquePointer?) -> LineEditor? {
    guard let el, let data = esr_el_clientdata(el) else { return nil }
    return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue()
}

// libedit callbacks: top-level functions, since a capturing closure converted to
// @convention(c) crashes the 6.3 compiler.
private func editorPrompt(_ el: OpaquePointer?) -> UnsafeMutablePointer<CChar>? {
    lineEditor(el)?.promptPointer
}

private func editorComplete(_ el: OpaquePointer?, _ key: Int32) -> UInt8 {
    lineEditor(el)?.complete() ?? UInt8(CC_ERROR)
}

private func editorCancel(_ el: OpaquePointer?, _ key: Int32) -> UInt8 {
    lineEditor(el)?.cancel() ?? UInt8(CC_EOF)
}
