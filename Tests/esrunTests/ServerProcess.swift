import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A running `esrun serve` (the built binary on a free loopback port) and a small HTTP client for it.
final class ServerProcess: @unchecked Sendable {
    // @unchecked: `process` and the file handles are set in init and only read afterwards.
    let process: Process
    let port: Int
    let directory: URL
    let output: URL
    private let session: URLSession

    struct Reply {
        var status: Int
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
    }

    /// Starts `esrun serve SCRIPT --port 0 ARGS` in `directory` and waits for its banner.
    init(script: String, in directory: URL, arguments: [String] = []) throws {
        self.directory = directory
        output = directory.appendingPathComponent("server-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process = Process()
        process.executableURL = ESRunProcess.binary
        process.arguments = ["serve", script, "--port", "0", "--workers", "2"] + arguments
        process.currentDirectoryURL = directory
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var found: Int?
        while found == nil && Date() < deadline && process.isRunning {
            let text = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            if let range = text.range(of: "on http://127.0.0.1:") {
                found = Int(text[range.upperBound...].prefix { $0.isNumber })
            } else {
                usleep(20_000)
            }
        }
        guard let found else {
            process.terminate()
            throw ServerFailure(message: "server did not start: " + ((try? String(contentsOf: output, encoding: .utf8)) ?? ""))
        }
        port = found
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.timeoutIntervalForRequest = 30
        session = URLSession(configuration: configuration)
    }

    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

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
        if process.isRunning { process.terminate() }
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        session.invalidateAndCancel()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

struct ServerFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
