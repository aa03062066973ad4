import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// POSTs each batch of events to a webhook as NDJSON (`Content-Type: application/x-ndjson`),
/// retrying failures (connection errors and non-2xx answers) with a doubling delay.
public struct HTTPSink: EventSink {
    public let url: URL
    /// Tries per batch before `publish` gives up (the publisher tries the batch again later).
    public let attempts: Int
    /// Delay before the first retry, in seconds; doubled each time.
    public let firstDelay: TimeInterval
    /// Per-request timeout, in seconds.
    public let timeout: TimeInterval
    /// Extra request headers (an Authorization header, say).
    public let headers: [String: String]

    public init(url: URL, attempts: Int = 5, firstDelay: TimeInterval = 0.2, timeout: TimeInterval = 10,
                headers: [String: String] = [:]) {
        self.url = url
        self.attempts = max(attempts, 1)
        self.firstDelay = firstDelay
        self.timeout = timeout
        self.headers = headers
    }

    public func publish(_ events: [RecordedEvent]) throws {
        var body = ""
        for event in events { body += event.publishedJSON + "\n" }
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = Data(body.utf8)
        request.setValue("application/x-ndjson", forHTTPHeaderField: "Content-Type")
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        var delay = firstDelay
        var failure = ""
        for attempt in 1...attempts {
            switch Self.send(request) {
            case .success(let status) where (200..<300).contains(status): return
            case .success(let status): failure = "HTTP \(status)"
            case .failure(let error): failure = "\(error.localizedDescription)"
            }
            if attempt < attempts {
                Thread.sleep(forTimeInterval: delay)
                delay *= 2
            }
        }
        throw PublishError.failed("sink_failed", "webhook \(url.absoluteString) failed \(attempts) times, last: \(failure)")
    }

    /// One request, waited for on the calling thread.
    private static func send(_ request: URLRequest) -> Result<Int, any Error> {
        let box = ResultBox()
        let done = DispatchSemaphore(value: 0)
        let task = URLSession.shared.dataTask(with: request) { _, response, error in
            if let error {
                box.set(.failure(error))
            } else {
                box.set(.success((response as? HTTPURLResponse)?.statusCode ?? 0))
            }
            done.signal()
        }
        task.resume()
        done.wait()
        return box.get()
    }
}

/// Carries a request's outcome from URLSession's queue to the waiting thread.
private final class ResultBox: @unchecked Sendable {
    // @unchecked: `value` is written once before the semaphore is signalled and read after it is
    // waited for, under `lock` both times.
    private let lock = NSLock()
    private var value: Result<Int, any Error> = .success(0)
    func set(_ result: Result<Int, any Error>) { lock.withLock { value = result } }
    func get() -> Result<Int, any Error> { lock.withLock { value } }
}
