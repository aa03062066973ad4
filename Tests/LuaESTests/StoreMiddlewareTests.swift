import CoreMetrics
import Foundation
import Logging
@testable import LuaES
import LuaESCore
@testable import LuaESScripting
@testable import LuaESStore
import LuaESTestSupport
import Testing

/// Records what passes through it, and optionally refuses appends or rewrites metadata.
final class RecordingMiddleware: StoreMiddleware, @unchecked Sendable {
    // @unchecked: `log` is only touched while `lock` is held.
    private let lock = NSLock()
    private var log: [String] = []
    let name: String
    let refuse: Bool
    let tag: Bool

    init(_ name: String, into shared: RecordingMiddleware? = nil, refuse: Bool = false, tag: Bool = false) {
        self.name = name
        self.refuse = refuse
        self.tag = tag
        self.sharedLog = shared
    }

    private let sharedLog: RecordingMiddleware?
    var entries: [String] { lock.withLock { log } }
    func record(_ line: String) {
        if let sharedLog { sharedLog.record(line) } else { lock.withLock { log.append(line) } }
    }

    func append(_ batches: [AppendBatch], next: ([AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>]) throws
        -> [Result<[RecordedEvent], StoreError>] {
        record("\(name) append in")
        if refuse { throw StoreError.refused("\(name) says no") }
        var batches = batches
        if tag {
            for b in batches.indices {
                for e in batches[b].events.indices {
                    batches[b].events[e].meta = String(batches[b].events[e].meta.dropLast()) + #","tagged_by":"\#(name)"}"#
                }
            }
        }
        let results = try next(batches)
        record("\(name) append out")
        return results
    }

    func load(_ query: LoadQuery, next: (LoadQuery) throws -> [RecordedEvent]) throws -> [RecordedEvent] {
        record("\(name) load in")
        var events = try next(query)
        if tag { events = events.map { var e = $0; e.data = #"{"by":100}"#; return e } }
        record("\(name) load out")
        return events
    }
}

/// A LogHandler that keeps every line.
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    // @unchecked: `lines` is only touched while `lock` is held; the rest is set before use.
    struct Line { var level: Logger.Level; var message: String; var metadata: Logger.Metadata }
    private let lock = NSLock()
    private var stored: [Line] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var lines: [Line] { lock.withLock { stored } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.withLock { stored.append(Line(level: event.level, message: "\(event.message)", metadata: event.metadata ?? [:])) }
    }
}

/// A MetricsFactory that keeps counters and timers by label and dimensions.
final class TestMetrics: MetricsFactory, @unchecked Sendable {
    // @unchecked: the dictionaries are only touched while `lock` is held; handlers guard themselves.
    final class Count: CounterHandler, @unchecked Sendable {
        // @unchecked: `value` is only touched while `lock` is held.
        private let lock = NSLock()
        private var total: Int64 = 0
        var value: Int64 { lock.withLock { total } }
        func increment(by amount: Int64) { lock.withLock { total += amount } }
        func reset() { lock.withLock { total = 0 } }
    }

    final class Durations: TimerHandler, @unchecked Sendable {
        // @unchecked: `values` is only touched while `lock` is held.
        private let lock = NSLock()
        private var stored: [Int64] = []
        var values: [Int64] { lock.withLock { stored } }
        func recordNanoseconds(_ duration: Int64) { lock.withLock { stored.append(duration) } }
    }

    private let lock = NSLock()
    private var counters: [String: Count] = [:]
    private var timers: [String: Durations] = [:]

    static func id(_ label: String, _ dimensions: [(String, String)]) -> String {
        ([label] + dimensions.map { "\($0.0)=\($0.1)" }).joined(separator: ",")
    }

    func counter(_ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        lock.withLock { counters[Self.id(label, dimensions)]?.value ?? 0 }
    }

    func timings(_ label: String, _ dimensions: [(String, String)] = []) -> [Int64] {
        lock.withLock { timers[Self.id(label, dimensions)]?.values ?? [] }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> CounterHandler {
        lock.withLock {
            let c = counters[Self.id(label, dimensions)] ?? Count()
            counters[Self.id(label, dimensions)] = c
            return c
        }
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> FloatingPointCounterHandler {
        NOOPMetricsHandler.instance
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> RecorderHandler {
        NOOPMetricsHandler.instance
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> TimerHandler {
        lock.withLock {
            let t = timers[Self.id(label, dimensions)] ?? Durations()
            timers[Self.id(label, dimensions)] = t
            return t
        }
    }

    func destroyCounter(_ handler: CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: FloatingPointCounterHandler) {}
    func destroyRecorder(_ handler: RecorderHandler) {}
    func destroyTimer(_ handler: TimerHandler) {}
}

let middlewareCounter = """
local C = aggregate("C", { initial = function() return { n = 0 } end })
C:event("Added", { by = "integer" })
function C.handle.add(state, cmd) return C.Added{ by = cmd.by or 1 } end
function C.replay.Added(state, ev) state.n = state.n + ev.by end
"""

@Suite("Store middleware")
struct StoreMiddlewareTests {
    @Test func chainRunsFirstRegisteredOutermost() throws {
        let log = RecordingMiddleware("log")
        let store = MiddlewareEventStore(base: InMemoryEventStore(), middleware: [
            RecordingMiddleware("a", into: log), RecordingMiddleware("b", into: log, tag: true),
        ])
        let engine = try makeEngine(middlewareCounter, store: store)
        let result = try engine.execute(aggregate: "C", key: "k", command: "add", args: #"{"by":2}"#)
        // the first command hydrates (a load), then appends
        #expect(log.entries == ["a load in", "b load in", "b load out", "a load out",
                                "a append in", "b append in", "b append out", "a append out"])
        #expect(field(result.events[0].meta, "tagged_by") as? String == "b")
        // group commit goes through the same chain
        let batch = engine.execute(batch: [CommandRequest(aggregate: "C", key: "x", command: "add"),
                                           CommandRequest(aggregate: "C", key: "y", command: "add")])
        #expect(batch.allSatisfy { (try? $0.get()) != nil })
        #expect(log.entries.filter { $0.contains("append") }.count == 8)
        // loads: b rewrites what it reads, a sees b's version; replay uses the rewritten events
        engine.dropCache()
        let state = try engine.state(aggregate: "C", key: "k")
        #expect(field(state.state, "n") as? Int == 100)
        #expect(log.entries.suffix(4) == ["a load in", "b load in", "b load out", "a load out"])
        let feed = try store.events(after: 0, limit: 10)
        #expect(feed.count == 3 && feed.allSatisfy { $0.data == #"{"by":100}"# })
    }

    @Test func aRefusalStoresNothing() throws {
        let base = InMemoryEventStore()
        let store = MiddlewareEventStore(base: base, middleware: [RecordingMiddleware("guard", refuse: true)])
        let engine = try makeEngine(middlewareCounter, store: store)
        #expect(throws: StoreError.refused("guard says no")) {
            try engine.execute(aggregate: "C", key: "k", command: "add")
        }
        let batch = engine.execute(batch: [CommandRequest(aggregate: "C", key: "k", command: "add")])
        #expect(throws: StoreError.self) { try batch[0].get() }
        #expect(try base.events(after: 0, limit: 100).isEmpty)
        #expect(try engine.state(aggregate: "C", key: "k").version == 0)
    }

    @Test func replayKeepsTheFastPathWhenNoMiddlewareInterceptsLoads() throws {
        struct AppendOnly: StoreMiddleware { var interceptsLoads: Bool { false } }
        let log = RecordingMiddleware("log")
        let store = MiddlewareEventStore(base: InMemoryEventStore(), middleware: [AppendOnly()])
        let engine = try makeEngine(middlewareCounter, store: store)
        _ = try engine.execute(aggregate: "C", key: "k", command: "add")
        engine.dropCache()
        #expect(try engine.state(aggregate: "C", key: "k").version == 1)
        #expect(log.entries.isEmpty)
    }

    @Test func loggingMiddlewareReportsAppendsLoadsAndErrors() throws {
        let handler = CapturingLogHandler()
        let logger = Logger(label: "test") { _ in handler }
        let base = InMemoryEventStore()
        let store = MiddlewareEventStore(base: base, middleware: [LoggingStoreMiddleware(logger: logger)])
        let engine = try makeEngine(middlewareCounter, store: store)
        _ = try engine.execute(aggregate: "C", key: "k1", command: "add", args: #"{"by":3}"#)
        let messages = handler.lines.map(\.message)
        #expect(messages.contains("append start") && messages.contains("append end"))
        let end = try #require(handler.lines.first { $0.message == "append end" })
        #expect(end.level == .debug)
        #expect(end.metadata["aggregate"] == "C" && end.metadata["key"] == "k1" && end.metadata["versions"] == "1...1")
        #expect(end.metadata["duration_ms"] != nil)
        engine.dropCache()
        _ = try engine.state(aggregate: "C", key: "k1")
        let load = try #require(handler.lines.last { $0.message == "load end" })
        #expect(load.metadata["count"] == "1" && load.metadata["replay"] == "true")
        // a conflict is an error line with the stream
        _ = try? store.append([NewEvent(type: "Added", data: #"{"by":1}"#)], to: StreamID(aggregate: "C", key: "k1"), expectedVersion: 0)
        let failed = try #require(handler.lines.first { $0.message == "append failed" })
        #expect(failed.level == .error && failed.metadata["key"] == "k1")
    }

    @Test func metricsMiddlewareCountsAndTimes() throws {
        let metrics = TestMetrics()
        let store = MiddlewareEventStore(base: InMemoryEventStore(), middleware: [MetricsStoreMiddleware(factory: metrics)])
        let engine = try makeEngine(middlewareCounter, store: store)
        for _ in 0..<3 { _ = try engine.execute(aggregate: "C", key: "k", command: "add") }
        _ = try? store.append([NewEvent(type: "Added", data: "{}")], to: StreamID(aggregate: "C", key: "k"), expectedVersion: 0)
        engine.dropCache()
        _ = try engine.state(aggregate: "C", key: "k")
        #expect(metrics.counter("luaes_store_appends_total", [("aggregate", "C"), ("outcome", "ok")]) == 3)
        #expect(metrics.counter("luaes_store_appends_total", [("aggregate", "C"), ("outcome", "conflict")]) == 1)
        #expect(metrics.counter("luaes_store_events_appended_total", [("aggregate", "C")]) == 3)
        #expect(metrics.timings("luaes_store_append_duration").count == 4)
        #expect(metrics.counter("luaes_store_loads_total", [("scope", "replay")]) >= 1)
        #expect(metrics.counter("luaes_store_events_loaded_total", [("scope", "replay")]) == 3)
        #expect(!metrics.timings("luaes_store_load_duration", [("scope", "replay")]).isEmpty)
    }
}
