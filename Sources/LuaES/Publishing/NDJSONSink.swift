import Foundation

/// Writes NDJSON lines to a file descriptor: standard output, or a file opened for appending.
public final class NDJSONSink: EventSink {
    private let descriptor: Int32
    private let owned: Bool

    /// Lines to standard output.
    public static func standardOutput() -> NDJSONSink { NDJSONSink(descriptor: STDOUT_FILENO, owned: false) }

    /// Lines appended to `path` (created when missing).
    /// - Throws: `StoreError.io` when the file cannot be opened.
    public convenience init(appendingTo path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io("cannot open \(path) for publishing: \(String(cString: strerror(errno)))") }
        self.init(descriptor: fd, owned: true)
    }

    private init(descriptor: Int32, owned: Bool) {
        self.descriptor = descriptor
        self.owned = owned
    }

    deinit { if owned { close(descriptor) } }

    /// One write per batch; returns once the kernel has the bytes (a killed process loses none of them).
    public func publish(_ events: [RecordedEvent]) throws {
        var text = ""
        for event in events { text += event.publishedJSON + "\n" }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw StoreError.io("publishing failed: \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(n)
        }
    }
}
