import ArgumentParser
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct State: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print an aggregate's state (a consistent read), now or at a version.")

        @Argument(help: "The domain script.") var domain: String
        @Argument(help: "Aggregate name.") var aggregate: String
        @Argument(help: "Aggregate key.") var key: String

        // .unconditional: `--at -1` reaches the input rules instead of reading as a flag.
        @Option(parsing: .unconditional, help: "The version to read (time travel).")
        var at: Int64?

        @Option(help: "json or table.")
        var format: OutputFormat = .json

        @OptionGroup var store: StoreOptions

        func run() throws {
            try reporting {
                let engine = try store.makeEngine(domain: domain)
                defer { try? engine.store.close() }
                let r = try engine.state(aggregate: aggregate, key: key, at: at)
                switch format {
                case .json:
                    output(JSONText.object([("version", String(r.version)), ("state", r.state)]))
                case .table:
                    let rows = [["version", String(r.version)]] + tableRows(r.state).map { [$0.0, $0.1] }
                    output(formatTable(["field", "value"], rows))
                }
            }
        }
    }
}
