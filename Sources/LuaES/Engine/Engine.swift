import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore
import Logging

/// Runs commands and reads for the aggregates of a Lua domain script over an `EventStore`.
///
/// An engine owns one Lua state, so it is confined to one thread at a time;
/// run several engines (workers) for parallelism.
public final class Engine {
    public let store: EventStore
    public let options: EngineOptions
    public private(set) var domain = DomainInfo()
    /// The engine's Lua state, for the tools built on it (REPL, specs); confined like the engine.
    package let host: LuaHost
    var cache: StateCache
    let logger: Logger
    /// The metadata members fixed per aggregate and command (`"command":...,"script_version":...`),
    /// with the fingerprint they were made for (Engine+meta.swift).
    var fixedMeta: [String: (fingerprint: String, members: String)] = [:]
    /// Reused between hydrations, so a cold load allocates its page buffers once.
    var replayPage = ReplayPage()
    /// Event and command ids.
    var ids = UUIDSource()
    /// Reads the next page of a long load while `replayPage` replays.
    let prefetch = ReplayPrefetch()
    /// States handed to the cache so far (the memory budget is checked every few hundred).
    var puts = 0
    /// Receives `ctx.log` lines; stderr through the logger when nil.
    public var logSink: ((String) -> Void)?

    /// Creates an engine with an empty domain; load a script next.
    /// - Throws: `EngineError` when the Lua state cannot be created.
    public init(store: EventStore, options: EngineOptions = EngineOptions(), logger: Logger = Logger(label: "luaes")) throws {
        self.store = store
        self.options = options
        self.logger = logger
        self.host = try asEngineError { () throws(ScriptError) in try LuaHost(limits: options.limits) }
        self.cache = StateCache(capacity: options.cacheCapacity)
        try asEngineError { () throws(ScriptError) in try host.setMaxEvents(options.maxEventsPerCommand) }
        host.setCallbacks(self)
    }

    /// Loads a domain script (load phase) and refreshes the registry.
    /// - Parameter display: the name errors use (`counter.lua:12`); the path when nil.
    /// - Throws: `EngineError` naming file:line on any load error.
    public func load(script path: String, display: String? = nil) throws {
        try asEngineError { () throws(ScriptError) in try host.runFile(path, display: display ?? path, phase: .load) }
        try refreshDomain()
    }

    /// Runs a driver script (host phase) with the driving API.
    public func run(script path: String, display: String? = nil) throws {
        try asEngineError { () throws(ScriptError) in try host.runFile(path, display: display ?? path, phase: .host) }
        try refreshDomain()
    }

    /// Re-reads the registry from the Lua state (a driver or a REPL chunk may have declared more).
    package func refreshDomain() throws {
        domain = try asEngineError { () throws(ScriptError) in try host.describe() }
    }

    package func aggregate(_ name: String) throws -> AggregateInfo {
        try asEngineError { () throws(InputError) in try InputRules.checkName(name, what: "aggregate") }
        if let a = domain.aggregate(named: name) { return a }
        try refreshDomain() // a driver may have defined it since
        if let a = domain.aggregate(named: name) { return a }
        throw EngineError.notFound("unknown_aggregate", "no aggregate named \(name)")
    }

    /// A consistent read: the state after every committed event, or at `version`.
    public func state(aggregate name: String, key: String, at version: Int64? = nil) throws -> StateResult {
        let agg = try aggregate(name)
        try asEngineError { () throws(InputError) in try InputRules.checkKey(key) }
        if let version {
            try asEngineError { () throws(InputError) in try InputRules.checkVersion(version, name: "the version") }
        }
        let stream = StreamID(aggregate: name, key: key)
        if let version {
            let (state, reached) = try loadState(agg, stream, upTo: version)
            if reached < version {
                throw EngineError.invalid("bad_version", "\(stream) has version \(reached); there is no version \(version)")
            }
            return StateResult(version: reached, state: try encodeState(state))
        }
        var state: StateRef, reached: Int64
        if let cached = cache.take(stream) {
            (state, reached) = cached
            // A cached state may be behind what other engines, processes or nodes appended since.
            reached = try replayStored(agg, stream, onto: state, after: reached, upTo: nil)
        } else {
            (state, reached) = try loadState(agg, stream, upTo: nil)
        }
        defer { putState(stream, state, version: reached) }
        return StateResult(version: reached, state: try encodeState(state))
    }

    /// The stored events of one aggregate instance (after version `after`, at most `limit`),
    /// checked by the script's `on_load` hooks.
    public func history(aggregate name: String, key: String, after: Int64 = 0, limit: Int? = nil) throws -> [RecordedEvent] {
        let agg = try aggregate(name)
        try asEngineError { () throws(InputError) in try InputRules.checkKey(key) }
        try asEngineError { () throws(InputError) in try InputRules.checkCursor(after, name: "after") }
        let stream = StreamID(aggregate: name, key: key)
        let events = try store.events(of: stream, after: after, upTo: nil, limit: limit)
        try checkLoaded(agg, stream, events: events)
        return events
    }

    /// The stream's version: no state is loaded or encoded for it.
    public func version(aggregate name: String, key: String) throws -> Int64 {
        _ = try aggregate(name)
        try asEngineError { () throws(InputError) in try InputRules.checkKey(key) }
        return try store.version(of: StreamID(aggregate: name, key: key))
    }

    /// Drops every cached state (after a reload, or to measure cold reads).
    public func dropCache() { cache.removeAll() }

    /// A handle that stops this engine's running call from another thread.
    public func makeInterrupter() -> Interrupter { host.makeInterrupter() }

    /// A new engine over the same store, options and logger, with nothing loaded (for a reload).
    public func makeSibling() throws -> Engine {
        try Engine(store: store, options: options, logger: logger)
    }
}

/// Runs a call into the Lua host or an input check, reporting its failure as an `EngineError`
/// (the engine and the tools on it report every failure of a command or a read as one).
@inline(__always)
package func asEngineError<T, Failure: ClassifiedError>(_ body: () throws(Failure) -> T) throws(EngineError) -> T {
    do {
        return try body()
    } catch {
        throw EngineError(error)
    }
}
