import Foundation
import Logging

/// Runs commands and reads for the aggregates of a Lua domain script over an `EventStore`.
///
/// An engine owns one Lua state, so it is confined to one thread at a time;
/// run several engines (workers) for parallelism.
public final class Engine {
    public let store: EventStore
    public let options: EngineOptions
    public private(set) var domain = DomainInfo()
    let host: LuaHost
    var cache: StateCache
    var logger: Logger
    /// The metadata members fixed per aggregate and command (`"command":...,"script_version":...`),
    /// with the fingerprint they were made for (Engine+meta.swift).
    var fixedMeta: [String: (fingerprint: String, members: String)] = [:]
    /// Reused between hydrations, so a cold load allocates its page buffers once.
    var replayPage = ReplayPage()
    /// States handed to the cache so far (the memory budget is checked every few hundred).
    var puts = 0
    /// The views `view:get` reads while a projection runs (Engine+projections.swift).
    var projectionReads: (store: ProjectionStore, name: String, generation: Int64)?
    /// A store failure met by `view:get` during the last `project` call: the page failed
    /// because of the store, not the script.
    var projectionReadFailure: (any Error)?
    /// Receives `ctx.log` lines; stderr through the logger when nil.
    public var logSink: ((String) -> Void)?

    /// Creates an engine with an empty domain; load a script next.
    /// - Throws: `EngineError` when the Lua state cannot be created.
    public init(store: EventStore, options: EngineOptions = EngineOptions(), logger: Logger = Logger(label: "luaes")) throws {
        self.store = store
        self.options = options
        self.logger = logger
        self.host = try LuaHost(limits: options.limits)
        self.cache = StateCache(capacity: options.cacheCapacity)
        _ = try host.invoke("set_max_events", phase: .load, label: "setup",
                            args: [.int(Int64(options.maxEventsPerCommand))], results: [])
        host.setCallbacks(self)
    }

    /// Loads a domain script (load phase) and refreshes the registry.
    /// - Parameter display: the name errors use (`counter.lua:12`); the path when nil.
    /// - Throws: `EngineError` naming file:line on any load error.
    public func load(script path: String, display: String? = nil) throws {
        try host.runFile(path, display: display ?? path, phase: .load)
        try refreshDomain()
    }

    /// Runs a driver script (host phase) with the driving API.
    public func run(script path: String, display: String? = nil) throws {
        try host.runFile(path, display: display ?? path, phase: .host)
        try refreshDomain()
    }

    /// Re-reads the registry from the Lua state.
    func refreshDomain() throws {
        let r = try host.invoke("describe", phase: .load, label: "describing the domain", args: [], results: [.json])
        guard case .json(let text) = r[0] else { return }
        let aggregates = try JSONDecoder().decode([AggregateInfo].self, from: Data(text.utf8))
        let p = try host.invoke("describe_projections", phase: .load, label: "describing the projections", args: [], results: [.json])
        guard case .json(let projectionText) = p[0] else { return }
        let projections = try JSONDecoder().decode([ProjectionInfo].self, from: Data(projectionText.utf8))
        domain = DomainInfo(aggregates: aggregates, projections: projections)
    }

    func aggregate(_ name: String) throws -> AggregateInfo {
        if let a = domain.aggregate(named: name) { return a }
        try refreshDomain() // a driver may have defined it since
        if let a = domain.aggregate(named: name) { return a }
        throw EngineError.invalid("unknown_aggregate", "no aggregate named \(name)")
    }

    /// A consistent read: the state after every committed event, or at `version`.
    public func state(aggregate name: String, key: String, at version: Int64? = nil) throws -> StateResult {
        let agg = try aggregate(name)
        let stream = StreamID(aggregate: name, key: key)
        if let version {
            let (ref, reached) = try loadState(agg, stream, upTo: version)
            defer { host.unref(ref) }
            if reached < version {
                throw EngineError.invalid("bad_version", "\(stream) has version \(reached); there is no version \(version)")
            }
            return StateResult(version: reached, state: try encodeState(ref))
        }
        var ref: Int32, reached: Int64
        if let cached = cache.take(stream) {
            (ref, reached) = cached
            do {
                // A cached state may be behind what other engines, processes or nodes appended since.
                reached = try replayStored(agg, stream, onto: &ref, after: reached, upTo: nil)
            } catch {
                host.unref(ref)
                throw error
            }
        } else {
            (ref, reached) = try loadState(agg, stream, upTo: nil)
        }
        defer { putState(stream, ref: ref, version: reached) }
        return StateResult(version: reached, state: try encodeState(ref))
    }

    /// The stored events of one aggregate instance.
    public func history(aggregate name: String, key: String) throws -> [RecordedEvent] {
        let agg = try aggregate(name)
        let stream = StreamID(aggregate: name, key: key)
        let events = try store.events(of: stream, after: 0, upTo: nil, limit: nil)
        try checkLoaded(agg, stream, events: events)
        return events
    }

    /// Drops every cached state (after a reload, or to measure cold reads).
    public func dropCache() {
        for ref in cache.removeAll() { host.unref(ref) }
    }
}
