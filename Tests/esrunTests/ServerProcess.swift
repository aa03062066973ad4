import Foundation
import LuaESTools
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A running `esrun serve` (the built binary on a free loopback port, started by the
/// `RunningServer` the bench uses too) and a small HTTP client for it.
final class ServerProcess: @unchecked Sendable {
    // @unchecked: every property is set in init and only read afterwards.
    let server: RunningServer
    let directory: URL
    private let session: URLSession

    struct Reply {
        var status: Int
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// Starts `esrun serve SCRIPT --port 0 ARGS` in `directory` and waits for its banner.
    init(script: String, in directory: URL, arguments: [String] = []) throws {
        self.directory = directory
        server = try RunningServer(executable: ESRunProcess.binary,
                                   arguments: ["serve", script, "--port", "0", "--workers", "2"] + arguments,
                                   directory: directory,
                                   log: directory.appendingPathComponent("server-\(UUID().uuidString).log"), seconds: 20)
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration)
    }

    var port: Int { server.port }
    var process: Process { server.process }

    var log: String { server.output }

    /// Sends a request; `headers` are added as given.
    func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        if let body { request.httpBody = Data(body.utf8) }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try await withCheckedThrowingContinuation { continuation in
            session.dataTask(with: request) { data, response, error in
                if let error { return continuation.resume(throwing: error) }
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                continuation.resume(returning: Reply(status: status, body: String(decoding: data ?? Data(), as: UTF8.self)))
            }.resume()
        }
    }

    func post(_ path: String, _ body: String? = nil, headers: [String: String] = [:]) async throws -> Reply {
        try await request("POST", path, body: body, headers: headers)
    }

    func get(_ path: String, headers: [String: String] = [:]) async throws -> Reply {
        try await request("GET", path, headers: headers)
    }

    /// Sends SIGTERM and waits for the exit status (SIGKILL after `seconds`).
    @discardableResult
    func stop(seconds: Double = 15) -> Int32 {
        defer { session.invalidateAndCancel() }
        return server.stop(seconds: seconds)
    }
}
