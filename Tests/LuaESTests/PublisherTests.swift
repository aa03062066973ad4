import Foundation
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// A sink that keeps what it gets and fails on demand.
final class CollectingSink: EventSink, @unchecked Sendable {
    // @unchecked: both properties are only touched while `lock` is held.
    private let lock = NSLock()
    private var stored: [RecordedEvent] = []
    private var failuresLeft: Int
    init(failures: Int = 0) { failuresLeft = failures }
    var events: [RecordedEvent] { lock.withLock { stored } }
    func publish(_ events: [RecordedEvent]) throws {
        try lock.withLock {
            if failuresLeft > 0 {
                failuresLeft -= 1
                throw PublishError.failed("sink_failed", "sink down")
            }
            stored += events
        }
    }
}

/// A one-thread HTTP server on loopback that answers `statuses` in turn (then 200) and keeps the bodies.
final class TinyHTTPServer: @unchecked Sendable {
    // @unchecked: `bodies` and `statuses` are only touched while `lock` is held; `fd` and `port` are set in init.
    private let lock = NSLock()
    private var statuses: [Int]
    private var stored: [String] = []
    private let fd: Int32
    let port: Int

    init(statuses: [Int]) throws {
        self.statuses = statuses
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound, listen(fd, 8) == 0 else { throw StoreError.io("cannot listen") }
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in serve() }.start()
    }

    var bodies: [String] { lock.withLock { stored } }

    private func serve() {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0 { return }
            var request = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(client, &buffer, buffer.count)
                if n <= 0 { break }
                request += buffer[0..<n]
                let text = String(decoding: request, as: UTF8.self)
                if let end = text.range(of: "\r\n\r\n") {
                    let header = text[..<end.lowerBound].lowercased()
                    let length = header.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                        .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                    let body = Array(request).suffix(from: text.utf8.distance(from: text.utf8.startIndex, to: end.upperBound.samePosition(in: text.utf8)!))
                    if body.count >= length {
                        let status = lock.withLock { () -> Int in
                            let s = statuses.isEmpty ? 200 : statuses.removeFirst()
                            if s == 200 { stored.append(String(decoding: body, as: UTF8.self)) }
                            return s
                        }
                        let reply = "HTTP/1.1 \(status) X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        _ = reply.withCString { write(client, $0, strlen($0)) }
                        break
                    }
                }
            }
            close(client)
        }
    }

    deinit { close(fd) }
}

@Suite("Event publisher")
struct PublisherTests {
    func commit(_ store: EventStore, _ count: Int, key: String = "k") throws {
        let stream = StreamID(aggregate: "A", key: key)
        let version = try store.version(of: stream)
        for i in 0..<count {
            try store.append([NewEvent(type: "E", data: "{}", meta: #"{"event_id":"\#(key)-\#(version + Int64(i) + 1)"}"#)],
                             to: stream, expectedVersion: version + Int64(i))
        }
    }

    @Test func publishesFromTheCheckpointAndResumes() throws {
        let store = InMemoryEventStore()
        let dir = temporaryDirectory()
        let sinkPath = dir.appendingPathComponent("out.ndjson").path
        let checkpoint = FileCheckpoint(path: sinkPath + ".checkpoint")
        try commit(store, 7)
        let publisher = EventPublisher(store: store, sink: try NDJSONSink(appendingTo: sinkPath), checkpoint: checkpoint, pageSize: 3)
        #expect(try publisher.publishPending() == 7)
        #expect(try checkpoint.load() == 7)
        try commit(store, 2)
        let again = EventPublisher(store: store, sink: try NDJSONSink(appendingTo: sinkPath), checkpoint: checkpoint)
        #expect(try again.publishPending() == 2)
        let lines = try String(contentsOfFile: sinkPath, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 9)
        #expect(lines.compactMap { field(String($0), "event_id") as? String } == (1...9).map { "k-\($0)" })
        #expect(lines.compactMap { field(String($0), "position") as? Int } == Array(1...9))
    }

    @Test(arguments: ["", "{\"torn", "{\"torn\"" + String(repeating: "x", count: 9000)])
    func aLineTornByACrashIsCutBeforeAppending(_ torn: String) throws {
        let store = InMemoryEventStore()
        let sinkPath = temporaryDirectory().appendingPathComponent("out.ndjson").path
        let checkpoint = FileCheckpoint(path: sinkPath + ".checkpoint")
        try commit(store, 2)
        #expect(try EventPublisher(store: store, sink: try NDJSONSink(appendingTo: sinkPath), checkpoint: checkpoint).publishPending() == 2)
        // a process killed in the middle of its next write left part of a line
        try commit(store, 1)
        let handle = try #require(FileHandle(forWritingAtPath: sinkPath))
        handle.seekToEndOfFile()
        handle.write(Data(torn.utf8))
        try handle.close()
        #expect(try EventPublisher(store: store, sink: try NDJSONSink(appendingTo: sinkPath), checkpoint: checkpoint).publishPending() == 1)
        let text = try String(contentsOfFile: sinkPath, encoding: .utf8)
        #expect(text.hasSuffix("\n"))
        let lines = text.split(separator: "\n")
        #expect(lines.compactMap { field(String($0), "position") as? Int } == [1, 2, 3], "\(text.prefix(300))")
    }

    @Test func aFileWithoutNewlinesIsCutWhole() throws {
        let sinkPath = temporaryDirectory().appendingPathComponent("out.ndjson").path
        try String(repeating: "y", count: 10_000).write(toFile: sinkPath, atomically: true, encoding: .utf8)
        _ = try NDJSONSink(appendingTo: sinkPath)
        #expect(try Data(contentsOf: URL(fileURLWithPath: sinkPath)).isEmpty)
    }

    @Test func aFailingSinkIsRetriedAndLosesNothing() throws {
        let store = InMemoryEventStore()
        let sink = CollectingSink(failures: 2)
        let publisher = EventPublisher(store: store, sink: sink, checkpoint: MemoryCheckpoint(), pollInterval: 0.02)
        let notifying = MiddlewareEventStore(base: store, middleware: [PublishNotifier(publisher: publisher)])
        publisher.start()
        try commit(notifying, 5)
        let deadline = Date().addingTimeInterval(10)
        while sink.events.count < 5 && Date() < deadline { usleep(10_000) }
        try commit(notifying, 3, key: "other")
        try publisher.stop()
        #expect(sink.events.map(\.position) == Array(1...8))
    }

    @Test func theWebhookSinkRetriesUntilAccepted() throws {
        let server = try TinyHTTPServer(statuses: [500, 503])
        let store = InMemoryEventStore()
        try commit(store, 3)
        let sink = HTTPSink(url: URL(string: "http://127.0.0.1:\(server.port)/hook")!, attempts: 4, firstDelay: 0.01)
        let publisher = EventPublisher(store: store, sink: sink, checkpoint: MemoryCheckpoint())
        #expect(try publisher.publishPending() == 3)
        let lines = server.bodies.flatMap { $0.split(separator: "\n") }
        #expect(lines.compactMap { field(String($0), "event_id") as? String } == ["k-1", "k-2", "k-3"])
        // a webhook that never accepts is an error after the attempts, and the checkpoint stays
        let down = try TinyHTTPServer(statuses: [500, 500])
        let checkpoint = MemoryCheckpoint()
        let failing = EventPublisher(store: store, sink: HTTPSink(
            url: URL(string: "http://127.0.0.1:\(down.port)/")!, attempts: 2, firstDelay: 0.01), checkpoint: checkpoint)
        #expect(throws: PublishError.failed(
            "sink_failed", "webhook http://127.0.0.1:\(down.port)/ failed 2 times, last: HTTP 500")) {
            try failing.publishPending()
        }
        #expect(try checkpoint.load() == 0)
    }

    @Test func targetsParse() throws {
        #expect(try PublishTarget(parsing: "stdout") == .standardOutput)
        #expect(try PublishTarget(parsing: "file:/tmp/x.ndjson") == .file("/tmp/x.ndjson"))
        #expect(try PublishTarget(parsing: "http://127.0.0.1:9/h") == .webhook(URL(string: "http://127.0.0.1:9/h")!))
        #expect(throws: PublishError.invalid("bad_publish_target", "--publish takes stdout, file:PATH or an http(s):// URL, not 'ftp://x'")) {
            try PublishTarget(parsing: "ftp://x")
        }
        #expect(PublishTarget.file("/a/b").defaultCheckpointPath(database: "x.db") == "/a/b.checkpoint")
        #expect(PublishTarget.standardOutput.defaultCheckpointPath(database: nil) == nil)
    }
}
