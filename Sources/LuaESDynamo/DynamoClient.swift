import AsyncHTTPClient
import Foundation
import Logging
import LuaESStore
import NIOCore
import NIOHTTP1

/// DynamoDB's JSON API (`X-Amz-Target: DynamoDB_20120810.OPERATION`) over HTTP, signed with
/// SigV4, synchronous: each call blocks its thread until the answer (AsyncHTTPClient's
/// futures, waited on; never call it from an event loop, which `wait()` checks).
///
/// Throttling, 5xx and lost connections are retried with full-jitter exponential backoff,
/// sending the same bytes again: every write the stores send either carries a condition that
/// makes a second application fail harmlessly or a `ClientRequestToken` (transactions).
final class DynamoClient: Sendable {
    let configuration: DynamoStoreConfiguration
    private let http: HTTPClient
    private let signer: SigV4Signer
    private let host: String
    private let logger: Logger
    private let closed = ClosedFlag()
    static let maxAttempts = 10

    init(configuration: DynamoStoreConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        let timeout = configuration.timeout.components
        let millis = timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000
        var http = HTTPClient.Configuration(timeout: .init(connect: .milliseconds(min(millis, 3000)), read: .milliseconds(millis)))
        http.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        self.http = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: http)
        signer = SigV4Signer(credentials: configuration.credentials, region: configuration.region, service: "dynamodb")
        let url = configuration.endpoint
        host = url.port.map { "\(url.host ?? ""):\($0)" } ?? (url.host ?? "")
    }

    /// A store dropped without `close()` must not take the process down (AsyncHTTPClient
    /// traps when a client is released running): shut it down without waiting.
    deinit {
        if closed.close() { http.shutdown { _ in } }
    }

    var isClosed: Bool { closed.isSet }

    func close() {
        guard closed.close() else { return }
        do { try http.syncShutdown() } catch { logger.warning("closing the DynamoDB HTTP client failed: \(error)") }
    }

    /// Runs one operation and returns the decoded answer.
    func call(_ operation: String, _ body: [String: Any]) throws(DynamoFailure) -> [String: Any] {
        try callAll([(operation, body)])[0].get()
    }

    /// Sends the calls at once and waits for all; each is retried on its own while retryable.
    func callAll(_ calls: [(String, [String: Any])]) -> [Result<[String: Any], DynamoFailure>] {
        guard !closed.isSet else { return calls.map { _ in .failure(.closed) } }
        let requests: [(String, Data)] = calls.map { call in
            // Bodies are built by the store from strings, numbers, arrays and dictionaries only.
            (call.0, (try? JSONSerialization.data(withJSONObject: call.1)) ?? Data("{}".utf8))
        }
        var results = [Result<[String: Any], DynamoFailure>?](repeating: nil, count: calls.count)
        var pending = Array(requests.indices)
        var attempt = 0
        while !pending.isEmpty {
            attempt += 1
            let futures = pending.map { send(requests[$0].0, requests[$0].1) }
            var again: [Int] = []
            for (index, future) in zip(pending, futures) {
                let outcome = Self.decode(Result { try future.wait() })
                if case .failure(let failure) = outcome, failure.isRetryable, attempt < Self.attempts(for: failure), !closed.isSet {
                    again.append(index)
                    logger.debug("DynamoDB \(requests[index].0) will be retried: \(failure.description)")
                }
                results[index] = outcome
            }
            pending = again
            if !pending.isEmpty { Thread.sleep(forTimeInterval: Self.backoff(attempt: attempt)) }
        }
        return results.map { $0! }
    }

    /// A dead endpoint is reported after a few tries, throttling only after many.
    private static func attempts(for failure: DynamoFailure) -> Int {
        if case .transport = failure { return 3 }
        return maxAttempts
    }

    /// Full jitter: a random pause up to 20 ms × 2^attempt, at most 2 s.
    static func backoff(attempt: Int) -> TimeInterval {
        let cap = min(2.0, 0.02 * pow(2.0, Double(min(attempt, 10))))
        return Double.random(in: 0.005...max(cap, 0.006))
    }

    private func send(_ operation: String, _ body: Data) -> EventLoopFuture<HTTPClient.Response> {
        var headers: [(String, String)] = [
            ("host", host), ("content-type", "application/x-amz-json-1.0"),
            ("x-amz-target", "DynamoDB_20120810.\(operation)"),
        ]
        headers += signer.sign(method: "POST", path: "/", headers: headers, body: body, date: Date())
        do {
            let request = try HTTPClient.Request(url: configuration.endpoint, method: .POST,
                                                 headers: HTTPHeaders(headers), body: .bytes(body))
            return http.execute(request: request)
        } catch {
            return HTTPClient.defaultEventLoopGroup.next().makeFailedFuture(error)
        }
    }

    private static func decode(_ outcome: Result<HTTPClient.Response, any Error>) -> Result<[String: Any], DynamoFailure> {
        let response: HTTPClient.Response
        switch outcome {
        case .success(let r): response = r
        case .failure(let error): return .failure(.transport(describe(error)))
        }
        let bytes = response.body.map { Data($0.readableBytesView) } ?? Data()
        let json = (try? JSONSerialization.jsonObject(with: bytes)) as? [String: Any]
        let status = Int(response.status.code)
        if status == 200, let json { return .success(json) }
        guard let json, let type = json["__type"] as? String else {
            let text = String(decoding: bytes.prefix(300), as: UTF8.self)
            return .failure(.aws(code: "HTTP\(status)", message: text.isEmpty ? "\(response.status)" : text, status: status, reasons: []))
        }
        let code = type.split(separator: "#").last.map(String.init) ?? type
        let message = (json["message"] as? String) ?? (json["Message"] as? String) ?? ""
        let reasons = (json["CancellationReasons"] as? [[String: Any]] ?? []).map { ($0["Code"] as? String) ?? "None" }
        return .failure(.aws(code: code, message: message, status: status, reasons: reasons))
    }

    private static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError { return "\(error)" }
        return String(describing: error)
    }
}
