import ArgumentParser
import Foundation
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Load a domain script and print its registry: aggregates, commands, event types, snapshots.")

        @Argument(help: "The domain script.") var domain: String

        @Option(help: "json or table.")
        var format: OutputFormat = .table

        @OptionGroup var store: StoreOptions

        func run() throws {
            try reporting {
                let engine = try Engine(store: InMemoryEventStore())
                try engine.load(script: domain, display: domain)
                let statuses = try projectionStatuses(engine.domain)
                switch format {
                case .json:
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    output(String(decoding: try encoder.encode(engine.domain.aggregates), as: UTF8.self))
                case .table:
                    output(Self.describe(engine.domain, defaultSnapshots: engine.options.snapshotEvery, statuses: statuses))
                }
            }
        }

        /// Where the script's projections stand in the store, when there is a store to look at
        /// (an existing SQLite file, PostgreSQL or DynamoDB); check never creates a database.
        private func projectionStatuses(_ domain: DomainInfo) throws -> [ProjectionStatus]? {
            guard !domain.projections.isEmpty, !store.memory,
                  store.postgres != nil || store.dynamodb != nil || store.mongodb != nil || FileManager.default.fileExists(atPath: store.db) else { return nil }
            let opened = try store.location.open()
            defer { try? opened.close() }
            guard let views = opened.projections else { return nil }
            return try ProjectionStatus.all(domain: domain, store: views)
        }

        static func describe(_ domain: DomainInfo, defaultSnapshots: Int, statuses: [ProjectionStatus]? = nil) -> String {
            var lines: [String] = []
            if domain.aggregates.isEmpty { lines.append("no aggregates") }
            for a in domain.aggregates {
                let every = a.snapshotEvery < 0 ? "every \(defaultSnapshots) events (default)"
                    : a.snapshotEvery == 0 ? "off" : "every \(a.snapshotEvery) events"
                lines.append("aggregate \(a.name)")
                lines.append("  snapshots:   \(every)")
                lines.append("  fingerprint: \(a.fingerprint)")
                lines.append("  commands:    \(a.commands.isEmpty ? "(none)" : a.commands.joined(separator: ", "))")
                lines.append("  events:")
                for e in a.events {
                    let fields = e.fields.map { f in
                        "{ " + f.keys.sorted().map { "\($0): \(f[$0]!)" }.joined(separator: ", ") + " }"
                    } ?? "(fields not declared)"
                    var extra = e.version > 1 ? "  v\(e.version)" : ""
                    if !e.upcasters.isEmpty { extra += " upcasts from " + e.upcasters.map { "v\($0)" }.joined(separator: ", ") }
                    if !e.renamedFrom.isEmpty { extra += "  renamed from " + e.renamedFrom.joined(separator: ", ") }
                    if !e.replay { extra += "  (no replay function)" }
                    lines.append("    \(e.name) \(fields)\(extra)")
                }
                if a.appendHooks + a.loadHooks > 0 { lines.append("  hooks:       \(a.appendHooks) on_append, \(a.loadHooks) on_load") }
                if !a.ignored.isEmpty { lines.append("  ignored on replay: \(a.ignored.joined(separator: ", "))") }
                for warning in a.warnings { lines.append("  warning: \(warning)") }
                for name in a.undeclaredReplays {
                    lines.append("  warning: replay function \(name) has no declared event type (typo?)")
                }
            }
            for p in domain.projections {
                lines.append("projection \(p.name)")
                lines.append("  fingerprint: \(p.fingerprint)")
                lines.append("  handles:     \(p.handles.isEmpty ? "(nothing)" : p.handles.joined(separator: ", "))")
                if let status = statuses?.first(where: { $0.name == p.name }) {
                    lines.append("  status:      " + status.summary.dropFirst(p.name.count + 2))
                }
                for name in p.unknownEvents { lines.append("  warning: \(name) is an event type no aggregate declares (typo?)") }
                for warning in p.warnings { lines.append("  warning: \(warning)") }
            }
            return lines.joined(separator: "\n")
        }
    }
}
