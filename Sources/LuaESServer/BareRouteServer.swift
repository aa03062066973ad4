import Hummingbird
import Logging

/// The HTTP ceiling `esrun bench` measures esrun serve against: a Hummingbird POST route that
/// collects the body and answers a small JSON object, with nothing behind it.
public enum BareRouteServer {
    public static func run(host: String, port: Int, onListening: @escaping @Sendable (Int) -> Void) async throws {
        let router = Router()
        router.post("/{aggregate}/{key}/{command}") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            let text = "{\"ok\":true,\"bytes\":" + String(body.readableBytes) + "}"
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
        var logger = Logger(label: "esrun.bare-route")
        logger.logLevel = .error
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(host, port: port), serverName: "esrun"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) },
            logger: logger)
        try await app.runService()
    }
}
