import Foundation
import Hummingbird
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore

/// Queries of the script's projections: `GET /projections`, `GET /projections/{name}?prefix=&after=&limit=`,
/// `GET /projections/{name}/{key}`. They read the active generation's stored views.
extension ESRunServer {
    func addProjectionRoutes(_ router: Router<BasicRequestContext>) {
        router.get("projections") { request, _ in
            await self.respond {
                try self.authorize(request, .read, nil)
                let domain = self.scriptState.domain
                let views = try self.views()
                let statuses = try await Self.offload { try ProjectionStatus.all(domain: domain, store: views) }
                return Response.json(JSONText.object([("projections", JSONText.array(statuses.map(\.json)))]))
            }
        }
        router.get("projections/:name") { request, context in
            await self.respond { try await self.listDocuments(request, context) }
        }
        router.get("projections/:name/:key") { request, context in
            await self.respond { try await self.document(request, context) }
        }
    }

    private func views() throws -> ProjectionStore {
        guard let views = store.projections else {
            throw HTTPFailure(.notFound, code: "no_projections", "this store keeps no projection views")
        }
        return views
    }

    /// The active generation of the script's projection `name`.
    private func activeGeneration(_ context: BasicRequestContext) async throws -> (ProjectionStore, ProjectionGeneration) {
        let name = try parameter(context, "name")
        try InputRules.checkName(name, what: "projection")
        guard scriptState.domain.projection(named: name) != nil else {
            throw HTTPFailure(.notFound, code: "unknown_projection", "the script has no projection named \(name)")
        }
        let views = try views()
        guard let active = try await Self.offload({ try views.activeGeneration(of: name) }) else {
            throw HTTPFailure(.unavailable, code: "not_built", "projection \(name) has no views yet: it is being built")
        }
        return (views, active)
    }

    private func document(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorize(request, .read, nil)
        let (views, active) = try await activeGeneration(context)
        let key = try parameter(context, "key")
        try InputRules.checkKey(key, what: "view key")
        let document = try await Self.offload {
            try views.viewDocument(projection: active.name, generation: active.generation, key: key)
        }
        guard let document else {
            throw HTTPFailure(.notFound, code: "not_found", "projection \(active.name) has no document \(key)")
        }
        return Response.json(JSONText.object([
            ("key", JSONText.quote(key)), ("document", document), ("position", String(active.position)),
        ]))
    }

    private func listDocuments(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        try authorize(request, .read, nil)
        let (views, active) = try await activeGeneration(context)
        let query = request.uri.queryParameters
        let prefix = query["prefix"].map { String($0) } ?? ""
        if !prefix.isEmpty { try InputRules.checkKey(prefix, what: "key prefix") }
        let after = query["after"].map { String($0) }
        if let after { try InputRules.checkKey(after, what: "view key to list after") }
        let limit = try InputRules.limit(query["limit"], name: "limit") ?? 100
        let documents = try await Self.offload {
            try views.viewDocuments(projection: active.name, generation: active.generation, prefix: prefix, after: after, limit: limit)
        }
        let next = documents.count == limit ? documents.last.map { JSONText.quote($0.key) } ?? "null" : "null"
        return Response.json(JSONText.object([
            ("documents", JSONText.array(documents.map(\.json))),
            ("position", String(active.position)), ("next", next),
        ]))
    }

    /// The projections' status for `/health` (null when the store keeps no views), and
    /// whether one of them has stopped on a failure.
    func projectionHealth(_ domain: DomainInfo) async -> (json: String, failed: Bool) {
        guard let views = store.projections else { return ("null", false) }
        do {
            let statuses = try await Self.offload { try ProjectionStatus.all(domain: domain, store: views) }
            return (JSONText.array(statuses.map(\.json)), statuses.contains { $0.state == .failed })
        } catch {
            return (JSONText.object([("error", JSONText.quote("\(error)"))]), true)
        }
    }
}
