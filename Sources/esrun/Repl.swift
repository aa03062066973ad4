import ArgumentParser
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct Repl: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A Lua prompt with the domain loaded: run commands, read states, step through history.")

        @Argument(help: "The domain script.") var domain: String?

        @Option(help: "Line history file (default: $ESRUN_HISTORY, else ~/.esrun_history).")
        var historyFile: String?

        @OptionGroup var store: StoreOptions

        func run() throws {
            try reporting {
                let engine = try store.makeEngine(domain: nil)
                defer { try? engine.store.close() }
                let session = REPLSession(engine: engine, domain: domain, output: REPLSession.standardOutput)
                session.runOnStandardInput(historyFile: historyFile ?? REPLSession.defaultHistoryFile())
            }
        }
    }
}
