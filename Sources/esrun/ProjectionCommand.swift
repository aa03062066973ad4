import ArgumentParser
import Foundation
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct ProjectionCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "projection",
            abstract: "Bring a projection up to date, then print one view document, or a list of them.",
            discussion: """
                esrun projection DOMAIN.lua                  the status of every projection (JSON, one per line)
                esrun projection DOMAIN.lua NAME KEY         the document at KEY (null when there is none)
                esrun projection DOMAIN.lua NAME --prefix P  documents whose keys start with P, in key order
                The projection first catches up with the events in the store (unless --no-catch-up),
                committing its views and checkpoint page by page, so an interrupted run loses nothing.
                A projection whose handler fails is reported on stderr (exit code of the error's kind).
                """)

        @Argument(help: "The domain script.") var domain: String
        @Argument(help: "Projection name.") var name: String?
        @Argument(help: "Document key.") var key: String?

        @Option(help: "List the documents whose keys start with this.") var prefix: String?
        @Option(help: "List documents after this key (paging).") var after: String?
        @Option(help: "Most documents to list.") var limit = 100
        @Option(help: "Events per page while catching up.") var pageSize = 500
        @Flag(help: "Answer from the stored views as they are.") var noCatchUp = false
        @Flag(help: "Rebuild NAME from the start of the feed beside the active views (they answer until it is caught up).")
        var rebuild = false
        @Flag(help: "Delete every view of NAME, a projection the script no longer defines.") var drop = false

        @OptionGroup var store: StoreOptions

        func validate() throws {
            try checkingInput { () throws(InputError) in
                try InputRules.checkLimit(limit, name: "--limit")
                if let key { try InputRules.checkKey(key, what: "view key") }
                if let prefix, !prefix.isEmpty { try InputRules.checkKey(prefix, what: "key prefix") }
                if let after { try InputRules.checkKey(after, what: "view key to list after") }
            }
            guard pageSize > 0 else { throw ValidationError("--page-size must be at least 1") }
            if key != nil && (prefix != nil || after != nil) {
                throw ValidationError("give a KEY or --prefix/--after, not both")
            }
            if (rebuild || drop) && (name == nil || key != nil || prefix != nil || after != nil) {
                throw ValidationError("--rebuild and --drop take a projection NAME and nothing else")
            }
            if rebuild && drop { throw ValidationError("--rebuild or --drop, not both") }
        }

        func run() throws {
            try reporting {
                let engine = try store.makeEngine(domain: domain)
                defer { try? engine.store.close() }
                if drop, let name {
                    let (generations, documents) = try Projector(engine: engine).drop(name)
                    output(JSONText.object([("dropped", JSONText.quote(name)), ("generations", String(generations)),
                                            ("documents", String(documents))]))
                    return
                }
                if let name, engine.domain.projection(named: name) == nil {
                    let known = engine.projections.map(\.name).joined(separator: ", ")
                    throw EngineError(kind: .notFound, code: "unknown_projection", message:
                                              "\(domain) has no projection named \(name) (it has: \(known.isEmpty ? "none" : known))")
                }
                let projector = try Projector(engine: engine, pageSize: pageSize)
                if rebuild, let name { try projector.rebuild(name) }
                if !noCatchUp {
                    try projector.prepare()
                    try projector.catchUp(only: name)
                }
                let statuses = try ProjectionStatus.all(domain: engine.domain, store: projector.views)
                guard let name, !rebuild else {
                    for status in statuses where name == nil || status.name == name { output(status.json) }
                    return
                }
                try answer(name, projector.views)
                if let failed = statuses.first(where: { $0.name == name && $0.state == .failed }) {
                    throw Self.failure(failed)
                }
            }
        }

        private func answer(_ name: String, _ views: ProjectionStore) throws {
            guard let active = try views.activeGeneration(of: name) else {
                throw EngineError(kind: .invalid, code: "not_built", message: "projection \(name) has no views yet (run without --no-catch-up)")
            }
            if let key {
                output(try views.viewDocument(projection: name, generation: active.generation, key: key) ?? "null")
                return
            }
            let documents = try views.viewDocuments(projection: name, generation: active.generation, prefix: prefix ?? "",
                                                    after: after, limit: limit)
            output(JSONText.array(documents.map(\.json)))
        }

        /// The stored failure as the error that stopped the projection.
        static func failure(_ status: ProjectionStatus) -> EngineError {
            struct Stored: Decodable {
                struct Inner: Decodable { var kind: String; var code: String; var message: String }
                var position: Int64
                var aggregate: String
                var key: String
                var version: Int64
                var type: String
                var error: Inner
            }
            guard let text = status.failure, let stored = try? JSONDecoder().decode(Stored.self, from: Data(text.utf8)) else {
                return EngineError(kind: .script, code: "projection_failed", message: "projection \(status.name) stopped")
            }
            return EngineError(
                kind: EngineError.Kind(rawValue: stored.error.kind) ?? .script, code: ErrorCode(stored.error.code),
                message: "projection \(status.name) stopped at position \(stored.position) "
                    + "(\(stored.aggregate)/\(stored.key) version \(stored.version), \(stored.type)): \(stored.error.message)")
        }
    }
}
