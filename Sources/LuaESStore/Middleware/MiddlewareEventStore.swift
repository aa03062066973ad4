import LuaESCore

/// An `EventStore` that runs an ordered chain of `StoreMiddleware` around a base store.
///
/// The first middleware in `middleware` is the outermost: for `[a, b]`, an append runs
/// `a` → `b` → base, and the results come back through `b`, then `a`. Snapshots, versions
/// and stream listings go straight to the base store.
///
/// ```swift
/// let store = MiddlewareEventStore(base: try SQLiteEventStore(path: "app.db"),
///                                  middleware: [LoggingStoreMiddleware(logger: logger), MetricsStoreMiddleware()])
/// let engine = try Engine(store: store)
/// ```
public final class MiddlewareEventStore: EventStore {
    public let base: EventStore
    public let middleware: [any StoreMiddleware]
    private let interceptsLoads: Bool

    /// - Parameters:
    ///   - base: the store that keeps the events.
    ///   - middleware: the chain, outermost first.
    public init(base: EventStore, middleware: [any StoreMiddleware]) {
        self.base = base
        self.middleware = middleware
        self.interceptsLoads = middleware.contains { $0.interceptsLoads }
    }

    @discardableResult
    public func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        let results = try runAppend(0, [AppendBatch(stream: stream, expectedVersion: expectedVersion, events: events)]) { batches in
            // the base's single-stream append keeps its own error for a lone batch
            try batches.map { batch in
                do {
                    return .success(try base.append(batch.events, to: batch.stream, expectedVersion: batch.expectedVersion))
                } catch let error as StoreError {
                    return .failure(error)
                }
            }
        }
        guard let first = results.first else { throw StoreError.refused("a middleware dropped the append") }
        return try first.get()
    }

    public func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        let results = try runAppend(0, batches) { try base.append(batches: $0) }
        guard results.count == batches.count else {
            throw StoreError.invalid("store middleware returned \(results.count) results for \(batches.count) batches")
        }
        return results
    }

    private func runAppend(_ index: Int, _ batches: [AppendBatch],
                           terminal: ([AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>]) throws
        -> [Result<[RecordedEvent], StoreError>] {
        guard index < middleware.count else { return try terminal(batches) }
        return try middleware[index].append(batches) { try runAppend(index + 1, $0, terminal: terminal) }
    }

    private func runLoad(_ index: Int, _ query: LoadQuery) throws -> [RecordedEvent] {
        guard index < middleware.count else {
            switch query.scope {
            case .stream(let stream): return try base.events(of: stream, after: query.after, upTo: query.upTo, limit: query.limit)
            case .feed: return try base.events(after: query.after, limit: query.limit ?? Int.max)
            case .command(let id): return try base.events(forCommand: id)
            }
        }
        return try middleware[index].load(query) { try runLoad(index + 1, $0) }
    }

    public func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent] {
        try runLoad(0, LoadQuery(scope: .stream(stream), after: after, upTo: upTo, limit: limit))
    }

    public func readReplayPage(_ page: inout ReplayPage, of stream: StreamID, after: Int64, upTo: Int64?, limit: Int) throws {
        guard interceptsLoads else {
            return try base.readReplayPage(&page, of: stream, after: after, upTo: upTo, limit: limit)
        }
        let events = try runLoad(0, LoadQuery(scope: .stream(stream), after: after, upTo: upTo, limit: limit, forReplay: true))
        page.removeAll()
        for event in events { page.append(event) }
    }

    public func events(after position: Int64, limit: Int) throws -> [RecordedEvent] {
        try runLoad(0, LoadQuery(scope: .feed, after: position, limit: limit))
    }

    public func events(forCommand commandID: String) throws -> [RecordedEvent] {
        try runLoad(0, LoadQuery(scope: .command(commandID)))
    }

    public func version(of stream: StreamID) throws -> Int64 { try base.version(of: stream) }
    public func streams(of aggregate: String?) throws -> [StreamID] { try base.streams(of: aggregate) }
    public func snapshot(of stream: StreamID) throws -> Snapshot? { try base.snapshot(of: stream) }
    public func saveSnapshot(_ snapshot: Snapshot) throws { try base.saveSnapshot(snapshot) }
    public func close() throws { try base.close() }
    public var commitNotifier: CommitNotifying? { base.commitNotifier }
    public var projections: ProjectionStore? { base.projections }
}
