import ArgumentParser
import Foundation
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct History: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an aggregate's stored events.")

        @Argument(help: "The domain script.") var domain: String
        @Argument(help: "Aggregate name.") var aggregate: String
        @Argument(help: "Aggregate key.") var key: String

        @Option(help: "json or table.")
        var format: OutputFormat = .json

        @OptionGroup var store: StoreOptions

        func run() throws {
            try reporting {
                let engine = try store.makeEngine(domain: domain)
                defer { try? engine.store.close() }
                let events = try engine.history(aggregate: aggregate, key: key)
                switch format {
                case .json:
                    output(JSONText.array(events.map(\.json)))
                case .table:
                    let rows = events.map { e in
                        [String(e.version), e.type, Self.time(e.recordedAt), String(e.position), e.data]
                    }
                    output(formatTable(["version", "type", "recorded_at", "position", "data"], rows))
                }
            }
        }

        static func time(_ ms: Int64) -> String {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return formatter.string(from: Date(timeIntervalSince1970: Double(ms) / 1000))
        }
    }
}
