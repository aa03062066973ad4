import ArgumentParser
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct Run: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a driver script with the domain API (esrun SCRIPT.lua does the same).")

        @Argument(help: "The Lua driver script.")
        var script: String

        @OptionGroup var store: StoreOptions
        @OptionGroup var publishing: PublishOptions

        func run() throws {
            try reporting {
                let engine = try store.makeEngine(domain: nil)
                defer { try? engine.store.close() }
                let publisher = try publishing.startPublisher(store: engine.store, location: store.location)
                do {
                    try engine.run(script: script, display: script)
                } catch {
                    try? publisher?.stop() // what did commit still goes out
                    throw error
                }
                try publisher?.stop()
            }
        }
    }
}
