import ArgumentParser
import LuaES

extension ESRun {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a driver script with the domain API (esrun SCRIPT.lua does the same).")

        @Argument(help: "The Lua driver script.")
        var script: String

        @OptionGroup var store: StoreOptions

        func run() throws {
            try reporting {
                let engine = try store.makeEngine(domain: nil)
                defer { try? engine.store.close() }
                try engine.run(script: script, display: script)
            }
        }
    }
}
