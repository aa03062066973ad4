import Foundation
import HTTPTypes
import Hummingbird
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore

/// The routes of ARCHITECTURE.md, "HTTP".
extension ESRunServer {
    static let correlationHeader = HTTPField.Name("X-Correlation-ID")!
    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!

    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("health") { _, _ in await self.health() }
        router.get("metrics") { request, _ in
            await self.respond {
                try self.authorize(request, .read, nil)
                var buffer = ByteBuffer()
                buffer.writeString(self.metrics.render())
                return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                                body: ResponseBody(byteBuffer: buffer))
            }
        }
        router.post("admin/reload") { request, _ in
            await self.respond {
                try self.authorize(request, .write, nil)
                let domain = try self.reload().get()
                return Response.json(JSONText.object([("reloaded", "true"), ("aggregates", self.describe(domain))]))
            }
        }
        router.get("events") { request, _ in await self.respond { try await self.feed(request) } }
        addProjectionRoutes(router)
        router.post(":aggregate/:key/:command") { request, context in
            await self.respond { try await self.command(request, context) }
        }
        router.get(":aggregate/:key") { request, context in
            await self.respond { try await self.state(request, context) }
        }
        router.get(":aggregate/:key/events") { request, context in
            await self.respond { try await self.streamEvents(request, context) }
        }
        return router
    }

    func respond(_ body: () async throws -> Response) async -> Response {
        do { return try await body() } catch { return HTTPFailure(error).response }
    }

    func authorize(_ request: Request, _ scope: TokenList.Scope, _ aggregate: String?) throws {
        guard let tokens else { return }
        switch tokens.decide(authorization: request.headers[.authorization], scope: scope, aggregate: aggregate) {
        case .allowed: return
        case .unauthenticated:
            throw HTTPFailure(.unauthorized, code: "unauthorized", "a valid bearer token is required")
        case .forbidden:
            throw HTTPFailure(.denied, code: "forbidden",
                              "this token may not \(scope.rawValue) \(aggregate ?? "this resource")")
        }
    }

    /// A path segment, percent-decoded: a segment whose escapes are not UTF-8 is refused, never kept as typed.
    func parameter(_ context: BasicRequestContext, _ name: String) throws -> String {
        guard let raw = context.parameters.get(name) else { throw HTTPFailure(.invalid, code: "bad_path", "missing \(name)") }
        guard raw.utf8.contains(0x25) else { return raw } // "%": decode only when encoded
        guard let decoded = raw.removingPercentEncoding else {
            throw HTTPFailure(.invalid, code: "bad_path", "the \(name) in the path is not percent-encoded UTF-8: \(raw)")
        }
        return decoded
    }

    /// The aggregate and key of the path, checked by `InputRules` before anything is looked up.
    func stream(_ context: BasicRequestContext) throws -> (aggregate: String, key: String) {
        let aggregate = try parameter(context, "aggregate")
        let key = try parameter(context, "key")
        try InputRules.checkName(aggregate, what: "aggregate")
        try InputRules.checkKey(key)
        return (aggregate, key)
    }

    private func command(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let (aggregate, key) = try stream(context)
        let command = try parameter(context, "command")
        try InputRules.checkName(command, what: "command")
        try authorize(request, .write, aggregate)
        guard let info = scriptState.domain.aggregate(named: aggregate) else {
            throw HTTPFailure(.notFound, code: "unknown_aggregate", "no aggregate named \(aggregate)")
        }
        guard info.commands.contains(command) else {
            throw HTTPFailure(.notFound, code: "unknown_command", "\(aggregate) has no command '\(command)'")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: configuration.maxBodyBytes)
        } catch {
            throw HTTPFailure(.tooLarge, code: "too_large",
                              "the request body is larger than \(configuration.maxBodyBytes) bytes")
        }
        var expected: Int64?
        if let ifMatch = request.headers[.ifMatch] {
            let trimmed = ifMatch.trimmingCharacters(in: CharacterSet(charactersIn: "\" W/"))
            guard let version = Int64(trimmed), version >= 0 else {
                throw HTTPFailure(.invalid, code: "bad_if_match", "If-Match must be a stream version, got \(ifMatch)")
            }
            expected = version
        }
        // The correlation id travels as a field, so the engine need not parse metadata per command.
        let meta = request.headers[Self.correlationHeader].map { JSONText.object([("correlation_id", JSONText.quote($0))]) }
        // the exact bytes sent, or a clear refusal: never a lossy conversion
        let args = try InputRules.commandBody(body.readableBytesView)
        let started = DispatchTime.now().uptimeNanoseconds
        let result = await pool.execute(CommandRequest(
            aggregate: aggregate, key: key, command: command, args: args, meta: meta,
            expectedVersion: expected, idempotencyKey: request.headers[Self.idempotencyHeader], requestID: context.id))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        switch result {
        case .success(let r):
            metrics.command(outcome: "ok", seconds: seconds)
            var response = Response.json(JSONText.object([
                ("version", String(r.version)), ("events", JSONText.array(r.events.map(\.json))), ("state", r.state ?? "null"),
            ]))
            response.headers[.eTag] = "\"\(r.version)\""
            return response
        case .failure(let error):
            let failure = HTTPFailure(error)
            metrics.command(outcome: failure.kind.rawValue, seconds: seconds)
            context.logger.debug("command failed", metadata: ["stream": "\(aggregate)/\(key)", "command": "\(command)",
                                                               "error": "\(failure.kind): \(failure.code)"])
            throw failure
        }
    }

    private func state(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let (aggregate, key) = try stream(context)
        try authorize(request, .read, aggregate)
        let version = try InputRules.version(request.uri.queryParameters["at"], name: "at")
        let r = try await pool.read(aggregate: aggregate, key: key) { try $0.state(aggregate: aggregate, key: key, at: version) }
        var response = Response.json(JSONText.object([("version", String(r.version)), ("state", r.state)]))
        response.headers[.eTag] = "\"\(r.version)\""
        return response
    }

    private func streamEvents(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let (aggregate, key) = try stream(context)
        try authorize(request, .read, aggregate)
        guard scriptState.domain.aggregate(named: aggregate) != nil else {
            throw HTTPFailure(.notFound, code: "unknown_aggregate", "no aggregate named \(aggregate)")
        }
        let after = try InputRules.cursor(request.uri.queryParameters["after"], name: "after") ?? 0
        let limit = try InputRules.limit(request.uri.queryParameters["limit"], name: "limit")
        // through the engine, as `esrun history`: the script's on_load hooks check what is read
        let events = try await pool.read(aggregate: aggregate, key: key) {
            try $0.history(aggregate: aggregate, key: key, after: after, limit: limit)
        }
        return Response.json(JSONText.object([("events", JSONText.array(events.map(\.json)))]))
    }

    /// The global feed; with follow=true, waits (long poll) until something after `after` is committed.
    private func feed(_ request: Request) async throws -> Response {
        try authorize(request, .read, nil)
        let after = try InputRules.cursor(request.uri.queryParameters["after"], name: "after") ?? 0
        let limit = try InputRules.limit(request.uri.queryParameters["limit"], name: "limit") ?? 100
        let follow = request.uri.queryParameters["follow"].map { $0 == "true" || $0 == "1" } ?? false
        let waitSeconds = try integer(request, "wait") ?? 25
        guard waitSeconds >= 0 else { throw HTTPFailure(.invalid, code: "bad_wait", "wait is a number of seconds, 0 or more") }
        let wait = min(Double(waitSeconds), configuration.maxWaitSeconds)
        let store = self.store
        var waited = false
        while true {
            let generation = feed.current
            let events = try await Self.offload { try store.events(after: after, limit: limit) }
            if !events.isEmpty || !follow || waited {
                let last = events.last?.position ?? after
                return Response.json(JSONText.object([
                    ("events", JSONText.array(events.map(\.json))), ("last_position", String(last)),
                ]))
            }
            await feed.wait(after: generation, seconds: wait)
            waited = true
        }
    }

    func integer(_ request: Request, _ name: String) throws -> Int64? {
        guard let text = request.uri.queryParameters[Substring(name)] else { return nil }
        guard let value = Int64(text) else {
            throw HTTPFailure(.invalid, code: "bad_query", "\(name) must be an integer, got \(text)")
        }
        return value
    }

    /// Blocking store reads run off the event loop threads.
    static func offload<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Result { try body() }) }
        }
    }

    func describe(_ domain: DomainInfo) -> String {
        JSONText.array(domain.aggregates.map { a in
            JSONText.object([("name", JSONText.quote(a.name)), ("fingerprint", JSONText.quote(a.fingerprint)),
                             ("commands", JSONText.array(a.commands.map(JSONText.quote)))])
        })
    }

    func health() async -> Response {
        let s = scriptState.snapshot
        let (projections, projectionFailed) = await projectionHealth(s.domain)
        let error = s.error.map { e in
            JSONText.object([("kind", JSONText.quote(e.kind.luaKind)), ("code", JSONText.quote(e.code.rawValue)),
                             ("message", JSONText.quote(e.message))])
        } ?? "null"
        let store: String = switch configuration.store {
        case .memory: "memory"
        case .sqlite(let path, _): "sqlite:" + path
        case .external(let name, _): name
        }
        return Response.json(JSONText.object([
            ("status", JSONText.quote(s.error == nil && !projectionFailed ? "ok" : "degraded")),
            ("version", JSONText.quote(LuaES.version)),
            ("script", JSONText.quote(configuration.script)),
            ("loaded_at", JSONText.quote(s.loadedAt)),
            ("reloads", String(s.reloads)), ("reload_error", error),
            ("aggregates", describe(s.domain)), ("store", JSONText.quote(store)), ("workers", String(pool.count)),
            ("projections", projections),
        ]))
    }
}
