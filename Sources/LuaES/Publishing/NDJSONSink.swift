import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// Writes NDJSON lines to a file descriptor: standard output, or a file opened for appending.
public final class NDJSONSink: EventSink {
    private let descriptor: Int32
    private let owned: Bool

    /// Lines to standard output.
    public static func standardOutput() -> NDJSONSink { NDJSONSink(descriptor: STDOUT_FILENO, owned: false) }

    /// Lines appended to `path` (created when missing).
    /// - Throws: `PublishError.failed` when the file cannot be opened.
    /// A line torn by a crash (a process killed in the middle of a write: Linux may stop a large
    /// write between pages) is cut off first: that page was not checkpointed, so it is published again.
    public convenience init(appendingTo path: String) throws {
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw PublishError.failed("sink_failed", "cannot open \(path) for publishing: \(String(cString: strerror(errno)))") }
        do {
            try Self.cutTornLine(fd, path)
        } catch {
            close(fd)
            throw error
        }
        self.init(descriptor: fd, owned: true)
    }

    /// Truncates the file after its last newline, when it does not end with one.
    private static func cutTornLine(_ fd: Int32, _ path: String) throws {
        var end = Int64(lseek(fd, 0, SEEK_END))
        guard end > 0 else { return }
        var chunk = [UInt8](repeating: 0, count: 4096)
        var first = true
        while end > 0 {
            let size = Int(min(Int64(chunk.count), end))
            let start = end - Int64(size)
            let n = chunk.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, off_t(start)) }
            guard n == size else { throw PublishError.failed("sink_failed", "cannot read \(path): \(String(cString: strerror(errno)))") }
            if first, chunk[size - 1] == UInt8(ascii: "\n") { return }
            first = false
            if let last = chunk[0..<size].lastIndex(of: UInt8(ascii: "\n")) {
                end = start + Int64(last) + 1
                break
            }
            end = start
        }
        guard ftruncate(fd, off_t(end)) == 0 else {
            throw PublishError.failed("sink_failed", "cannot cut the torn last line of \(path): \(String(cString: strerror(errno)))")
        }
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
                throw PublishError.failed("sink_failed", "publishing failed: \(String(cString: strerror(errno)))")
            }
            bytes = bytes.dropFirst(n)
        }
    }
}
