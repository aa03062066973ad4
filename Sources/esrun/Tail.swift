import ArgumentParser
import Dispatch
import Foundation
import LuaES
import LuaESScripting
import LuaESCore
import LuaESStore
import LuaESTools

extension ESRun {
    struct Tail: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the global event feed as NDJSON; --follow keeps printing new events.",
            discussion: """
                One event per line, as GET /events shows it, in position order. Reads the store only: \
                no domain script. Without --follow, stops at the current end. With --follow, polls \
                until SIGINT or SIGTERM, or until the reader of standard output goes away (exit 0).
                """)

        @Flag(help: "Keep polling for events committed later (by esrun serve, exec, run...).")
        var follow = false

        // .unconditional: `--after -1` reaches the check in run() instead of reading as a flag.
        @Option(parsing: .unconditional, help: "Only events after this global position.")
        var after: Int64 = 0

        @Option(help: "Only events of this aggregate.")
        var aggregate: String?

        @Option(parsing: .unconditional, help: "Stop after printing this many events.")
        var limit: Int?

        @OptionGroup var store: StoreOptions

        /// Events per feed read.
        static let pageSize = 500
        /// Seconds between polls once the feed is read to its end.
        static let pollInterval = 0.15

        func run() throws {
            try reporting {
                try InputRules.checkCursor(after, name: "--after")
                if let limit, limit < 0 {
                    throw EngineError(kind: .invalid, code: "bad_limit",
                                      message: "--limit is a number of events, 0 or more (got \(limit))")
                }
                // A reader that goes away shows up as EPIPE from write(2), not as a fatal signal.
                signal(SIGPIPE, SIG_IGN)
                let stop = StopSignals([SIGINT, SIGTERM])
                let events = try store.openStore()
                defer { try? events.close() }
                try printFeed(from: events, until: stop)
            }
        }

        /// Reads the feed page by page and writes each page's lines in one write.
        /// Returns at the end of the feed (unless following), at the limit, on a signal,
        /// or when standard output is closed.
        private func printFeed(from events: EventStore, until stop: StopSignals) throws {
            if limit == 0 { return }
            let out = StandardOutput()
            var position = after
            var printed = 0
            while !stop.requested {
                var want = Self.pageSize
                if aggregate == nil, let limit { want = min(want, limit - printed) }
                let page = try events.events(after: position, limit: want)
                var lines = ""
                for event in page where aggregate == nil || event.stream.aggregate == aggregate {
                    lines += event.json
                    lines += "\n"
                    printed += 1
                    if printed == limit { break }
                }
                if let last = page.last { position = last.position }
                guard try out.writeAll(lines) else { return }
                if let limit, printed >= limit { return }
                if page.count == want { continue } // a full page: more may be waiting
                guard follow else { return }
                if out.isReaderGone || stop.wait(seconds: Self.pollInterval) { return }
            }
        }
    }
}

/// Turns SIGINT and SIGTERM into a flag the tail loop checks, and wakes its sleep.
private final class StopSignals: @unchecked Sendable {
    // @unchecked: `stopped` is only touched under `lock`; `sources` is set in init.
    private let lock = NSLock()
    private var stopped = false
    private let wakeup = DispatchSemaphore(value: 0)
    private var sources: [DispatchSourceSignal] = []

    init(_ signals: [Int32]) {
        for number in signals {
            // Dispatch delivers the signal only once its default action (terminate) is off.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.stop() }
            source.resume()
            sources.append(source)
        }
    }

    deinit { sources.forEach { $0.cancel() } }

    var requested: Bool { lock.withLock { stopped } }

    private func stop() {
        lock.withLock { stopped = true }
        wakeup.signal()
    }

    /// Sleeps up to `seconds`; true when a signal arrived.
    func wait(seconds: Double) -> Bool {
        _ = wakeup.wait(timeout: .now() + seconds)
        return requested
    }
}

/// Standard output without a buffer: each page goes to the kernel in one write, so a
/// consumer at the other end of a pipe sees the lines at once.
private struct StandardOutput {
    struct WriteFailure: Error, CustomStringConvertible {
        var errno: Int32
        var description: String { "writing to standard output failed: \(String(cString: strerror(errno)))" }
    }

    /// Writes all of `text`.
    /// - Returns: false when the reader has gone (EPIPE): nobody wants the rest.
    /// - Throws: `WriteFailure` for any other error (a full disk...).
    func writeAll(_ text: String) throws -> Bool {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let n = bytes.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { return false }
                throw WriteFailure(errno: errno)
            }
            bytes = bytes.dropFirst(n)
        }
        return true
    }

    /// True when standard output is a pipe or terminal whose other end has closed, seen
    /// without writing (as GNU `tail -f` checks): a quiet feed should not keep us alive.
    var isReaderGone: Bool {
        // poll(2): POLLERR and POLLHUP are reported even when not requested in `events`.
        var descriptor = pollfd(fd: STDOUT_FILENO, events: 0, revents: 0)
        return poll(&descriptor, 1, 0) == 1 && descriptor.revents & Int16(POLLERR | POLLHUP) != 0
    }
}
