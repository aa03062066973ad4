import ArgumentParser
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct Exec: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Execute one command; print the committed events and the new state as JSON.")

        @Argument(help: "The domain script.") var domain: String
        @Argument(help: "Aggregate name, e.g. Counter.") var aggregate: String
        @Argument(help: "Aggregate key, e.g. c1.") var key: String
        @Argument(help: "Command name, e.g. increment.") var command: String
        @Argument(help: "Command arguments as a JSON object.") var json: String = "{}"

        @Option(parsing: .unconditional, help: "Fail with a conflict unless the aggregate is at this version.")
        var expectedVersion: Int64?

        @Option(help: "Metadata stored with the events, as a JSON object.")
        var meta: String?

        @OptionGroup var store: StoreOptions

        func run() throws {
            try reporting {
                let engine = try store.makeEngine(domain: domain)
                defer { try? engine.store.close() }
                let r = try engine.execute(aggregate: aggregate, key: key, command: command, args: json,
                                           meta: meta, expectedVersion: expectedVersion)
                output(JSONText.object([("version", String(r.version)),
                                          ("events", JSONText.array(r.events.map(\.json))),
                                          ("state", r.state ?? "null")]))
            }
        }
    }
}
