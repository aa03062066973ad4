import CoreMetrics
import Foundation

/// Counts appends and loads through swift-metrics and times them.
///
/// Metrics (with `prefix` = `luaes_store`):
/// - `luaes_store_appends_total` {aggregate, outcome: ok|conflict|error} per stream appended
/// - `luaes_store_events_appended_total` {aggregate}
/// - `luaes_store_append_duration` (timer, one per append call)
/// - `luaes_store_loads_total` {scope: stream|replay|feed|command}, `luaes_store_events_loaded_total` {scope}
/// - `luaes_store_load_duration` {scope} (timer)
///
/// Metric objects are made once per label and dimensions and reused.
public final class MetricsStoreMiddleware: StoreMiddleware, @unchecked Sendable {
    // @unchecked: the only mutable state, the two caches, is read and written while `lock` is held;
    // the swift-metrics objects themselves are Sendable.
    private let lock = NSLock()
    private var counters: [String: Counter] = [:]
    private var timers: [String: CoreMetrics.Timer] = [:]
    private let factory: MetricsFactory?
    public let prefix: String

    /// - Parameters:
    ///   - prefix: the start of every metric's label.
    ///   - factory: the metrics backend; `MetricsSystem.factory` (the bootstrapped one) when nil.
    public init(prefix: String = "luaes_store", factory: MetricsFactory? = nil) {
        self.prefix = prefix
        self.factory = factory
    }

    public func append(_ batches: [AppendBatch], next: ([AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>]) throws
        -> [Result<[RecordedEvent], StoreError>] {
        let started = DispatchTime.now().uptimeNanoseconds
        defer { timer("append_duration", []).recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started)) }
        let results: [Result<[RecordedEvent], StoreError>]
        do {
            results = try next(batches)
        } catch {
            for batch in batches { counter("appends_total", [("aggregate", batch.stream.aggregate), ("outcome", "error")]).increment() }
            throw error
        }
        for (batch, result) in zip(batches, results) {
            let aggregate = batch.stream.aggregate
            switch result {
            case .success(let recorded):
                counter("appends_total", [("aggregate", aggregate), ("outcome", "ok")]).increment()
                counter("events_appended_total", [("aggregate", aggregate)]).increment(by: recorded.count)
            case .failure(let error):
                counter("appends_total", [("aggregate", aggregate), ("outcome", error.isConflict ? "conflict" : "error")]).increment()
            }
        }
        return results
    }

    public func load(_ query: LoadQuery, next: (LoadQuery) throws -> [RecordedEvent]) throws -> [RecordedEvent] {
        let scope = switch query.scope {
        case .stream: query.forReplay ? "replay" : "stream"
        case .feed: "feed"
        case .command: "command"
        }
        let started = DispatchTime.now().uptimeNanoseconds
        defer { timer("load_duration", [("scope", scope)]).recordNanoseconds(Int64(DispatchTime.now().uptimeNanoseconds - started)) }
        let events = try next(query)
        counter("loads_total", [("scope", scope)]).increment()
        counter("events_loaded_total", [("scope", scope)]).increment(by: events.count)
        return events
    }

    private func counter(_ name: String, _ dimensions: [(String, String)]) -> Counter {
        let id = Self.id(name, dimensions)
        return lock.withLock {
            if let c = counters[id] { return c }
            let label = prefix + "_" + name
            let c = factory.map { Counter(label: label, dimensions: dimensions, factory: $0) }
                ?? Counter(label: label, dimensions: dimensions)
            counters[id] = c
            return c
        }
    }

    private func timer(_ name: String, _ dimensions: [(String, String)]) -> CoreMetrics.Timer {
        let id = Self.id(name, dimensions)
        return lock.withLock {
            if let t = timers[id] { return t }
            let label = prefix + "_" + name
            let t = factory.map { CoreMetrics.Timer(label: label, dimensions: dimensions, factory: $0) }
                ?? CoreMetrics.Timer(label: label, dimensions: dimensions)
            timers[id] = t
            return t
        }
    }

    private static func id(_ name: String, _ dimensions: [(String, String)]) -> String {
        dimensions.reduce(name) { $0 + "\u{1}" + $1.0 + "=" + $1.1 }
    }
}
