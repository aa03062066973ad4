import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTP calls with URLSession.
enum HTTP {
    struct Response {
        var status: Int
        var body: Data
    }

    static func request(_ method: String, _ url: String, body: String? = nil, ifMatch: String? = nil,
                        headers: [String: String] = [:]) throws -> Response {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 60
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        if let ifMatch { request.setValue(ifMatch, forHTTPHeaderField: "If-Match") }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let result = Locked<Result<Response, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            result.withLock {
                if let error { $0 = .failure(error) } else {
                    $0 = .success(Response(status: (response as? HTTPURLResponse)?.statusCode ?? 0, body: data ?? Data()))
                }
            }
            done.signal()
        }.resume()
        done.wait()
        return try result.current!.get()
    }
}
