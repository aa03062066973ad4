import Foundation
import LuaES
import LuaESCore
import LuaESScripting
import LuaESStore

/// An interactive session over an engine (`esrun repl`): Lua chunks typed at the prompt
/// run in the host phase with the domain loaded and the driving API available; values are
/// pretty printed, commands show their events and the new state, errors their kind, code,
/// message and location; lines starting with `.` are meta commands (`.help`).
///
/// Confined to one thread, like its engine; only `interrupts` may be used from others.
public final class REPLSession {
    /// The engine running the session's code; replaced by a successful `.reload`.
    public internal(set) var engine: Engine
    /// The domain script, re-read by `.reload`.
    public let domainPath: String?
    /// Stops the running chunk (Ctrl-C); follows the engine across reloads.
    public let interrupts = InterruptTarget()
    /// Set by `.quit`.
    public internal(set) var finished = false

    let write: (String) -> Void
    /// Lines of a chunk that is not complete yet.
    private var pending: [String] = []

    /// Creates a session and loads `domain` into a fresh engine over `engine`'s store.
    /// A domain that fails to load is reported and the session starts without it.
    /// - Parameters:
    ///   - engine: an engine with nothing loaded; its store and options serve the session.
    ///   - output: receives every line the session prints (values, events, errors).
    public init(engine: Engine, domain: String?, output: @escaping (String) -> Void) {
        self.engine = engine
        self.domainPath = domain
        self.write = output
        if let domain {
            do {
                let (loaded, problems) = try loadDomain(domain)
                for problem in problems { write("warning: \(problem)") }
                adopt(loaded)
            } catch {
                write("cannot load \(domain): " + errorLine(error))
                write("(starting without a domain; fix the script and type .reload)")
                prepare(engine)
            }
        } else {
            prepare(engine)
        }
    }

    /// The prompt for the next line: `>> ` while a chunk continues.
    public var prompt: String { pending.isEmpty ? "> " : ">> " }

    /// Whether a chunk is waiting for more lines.
    public var isContinuing: Bool { !pending.isEmpty }

    /// Handles one line of input: a meta command, or a line of Lua (evaluated once the chunk is complete).
    public func handle(line: String) {
        if pending.isEmpty {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { return }
            if trimmed.first == ".", trimmed.dropFirst().first?.isLetter == true {
                runMeta(trimmed)
                return
            }
        }
        pending.append(line)
        let chunk = pending.joined(separator: "\n")
        do {
            switch try REPLEvaluator(engine).evaluate(chunk) {
            case .incomplete:
                return
            case .done(let text):
                pending = []
                if !text.isEmpty { write(text) }
            }
        } catch {
            pending = []
            write(errorLine(error))
        }
    }

    /// Drops the lines of an unfinished chunk (Ctrl-C at the prompt).
    public func cancelLine() { pending = [] }

    /// Reads and handles lines until `.quit` or the end of input.
    public func run(reader: LineReader) {
        while !finished {
            switch reader.readLine(prompt: prompt) {
            case .line(let line): handle(line: line)
            case .cancelled: cancelLine()
            case .end: finished = true
            }
        }
    }

    /// Tab completion over the current engine's domain and Lua globals. A lookup that
    /// fails (a closed store) only means no candidates: completion never prints errors.
    public var completer: REPLCompleter {
        let engine = self.engine
        return REPLCompleter(
            domain: engine.domain,
            names: { path in (try? REPLEvaluator(engine).names(in: path)) ?? [] },
            keys: { aggregate in (try? engine.store.streams(of: aggregate).map(\.key)) ?? [] })
    }


    /// Makes `loaded` the session's engine (and Ctrl-C's target).
    func adopt(_ loaded: Engine) {
        engine = loaded
        interrupts.set(loaded.makeInterrupter())
    }

    private func prepare(_ engine: Engine) {
        do {
            try REPLEvaluator(engine).prepare()
        } catch {
            write("cannot prepare the REPL: " + errorLine(error))
        }
        adopt(engine)
    }
}
