import Foundation

/// `esrun serve` running in the background; `base` is its http://127.0.0.1:PORT.
final class ServeProcess: @unchecked Sendable {
    // @unchecked: `output` is only touched under `lock`; `process` and `base` are set in init.
    private let process = Process()
    private let lock = NSLock()
    private var output = ""
    private(set) var base = ""

    init(_ arguments: [String], in directory: URL, seconds: Double = 60) throws {
        process.executableURL = ESRunProcess.binary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        pipe.fileHandleForReading.readabilityHandler = { [lock] handle in
            let chunk = String(decoding: handle.availableData, as: UTF8.self)
            lock.withLock { self.output += chunk }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline, process.isRunning {
            let text = lock.withLock { output }
            if let range = text.range(of: #"on http://127\.0\.0\.1:\d+"#, options: .regularExpression) {
                base = String(text[range].dropFirst(3))
                return
            }
            usleep(20_000)
        }
        let text = lock.withLock { output }
        stop()
        throw ServeFailure(message: "esrun serve did not start: \(text)")
    }

    func stop() {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}

struct ServeFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
