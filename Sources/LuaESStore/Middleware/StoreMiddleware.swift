/// A hook around every append and load of an `EventStore` (ARCHITECTURE.md, "The engine").
///
/// Middleware is composed by `MiddlewareEventStore`: the first one registered runs outermost,
/// so it sees an append first and its result last. Each hook calls `next` to go on (or does
/// not, to refuse or answer by itself), and may change what goes in and what comes out:
/// events and their metadata on the way in, recorded events on the way out.
///
/// To refuse an append, throw (`StoreError.refused` reads well): nothing of the append is
/// stored and the command fails with that error. Hooks are called from whichever thread
/// uses the store, possibly several at once, so implementations must be thread-safe.
public protocol StoreMiddleware: Sendable {
    /// Wraps an append of one or more streams (one transaction). A single-stream append
    /// arrives as one batch. Return one result per batch of what `next` was given.
    /// - Throws: to refuse the whole append; nothing is stored.
    func append(_ batches: [AppendBatch], next: ([AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>]) throws
        -> [Result<[RecordedEvent], StoreError>]

    /// Wraps a read of stored events: one stream's (also replay loads), the global feed,
    /// or one command's. The default passes the query on unchanged.
    func load(_ query: LoadQuery, next: (LoadQuery) throws -> [RecordedEvent]) throws -> [RecordedEvent]

    /// Whether `load` is more than a pass-through. When no middleware of a chain intercepts
    /// loads, replay loads keep the store's raw-bytes fast path; otherwise they are read as
    /// `RecordedEvent`s so every `load` hook sees them. The default is true (correct, slower);
    /// a middleware that only hooks appends returns false.
    var interceptsLoads: Bool { get }
}

extension StoreMiddleware {
    public func append(_ batches: [AppendBatch], next: ([AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>]) throws
        -> [Result<[RecordedEvent], StoreError>] {
        try next(batches)
    }

    public func load(_ query: LoadQuery, next: (LoadQuery) throws -> [RecordedEvent]) throws -> [RecordedEvent] {
        try next(query)
    }

    public var interceptsLoads: Bool { true }
}

/// What a load asks the store for.
public struct LoadQuery: Sendable, Equatable {
    /// Which events: one stream's, the global feed, or those of one command (idempotency key).
    public enum Scope: Sendable, Equatable {
        case stream(StreamID)
        case feed
        case command(String)
    }

    public var scope: Scope
    /// A version for a stream, a position for the feed; unused for a command.
    public var after: Int64
    /// The last version wanted (streams only).
    public var upTo: Int64?
    public var limit: Int?
    /// True when the engine loads the events to rebuild a state.
    public var forReplay: Bool

    public init(scope: Scope, after: Int64 = 0, upTo: Int64? = nil, limit: Int? = nil, forReplay: Bool = false) {
        self.scope = scope
        self.after = after
        self.upTo = upTo
        self.limit = limit
        self.forReplay = forReplay
    }

    /// The stream, when the query reads one.
    public var stream: StreamID? {
        if case .stream(let s) = scope { return s }
        return nil
    }
}
