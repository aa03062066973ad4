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
    /// `{"command":"name"}` per command, for commands without caller metadata.
    var plainMeta: [String: String] = [:]
    /// Reused between hydrations, so a cold load allocates its page buffers once.
    var replayPage = ReplayPage()
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
        domain = DomainInfo(aggregates: aggregates)
    }

    func aggregate(_ name: String) throws -> AggregateInfo {
        if let a = domain.aggregate(named: name) { return a }
        try refreshDomain() // a driver may have defined it since
        if let a = domain.aggregate(named: name) { return a }
        throw EngineError.invalid("unknown_aggregate", "no aggregate named \(name)")
    }

    /// Runs `command` on `aggregate`/`key`: hydrate, decide, replay the new events, append.
    /// - Parameters:
    ///   - args: JSON object text, the command's arguments.
    ///   - meta: JSON object text stored with each event (correlation id, user...).
    ///   - expectedVersion: when given, a stream at another version is a conflict (no retry).
    /// - Throws: `EngineError` (fault, conflict, script, limit, forbidden, invalid) or `StoreError`.
    public func execute(aggregate name: String, key: String, command: String, args: String = "{}",
                        meta: String? = nil, expectedVersion: Int64? = nil) throws -> CommandResult {
        let agg = try aggregate(name)
        guard agg.commands.contains(command) else {
            throw EngineError.invalid("unknown_command", "\(name) has no command '\(command)'")
        }
        let stream = StreamID(aggregate: name, key: key)
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try attemptCommand(agg, stream, command, args, meta, expectedVersion)
            } catch let error as StoreError where error.isConflict {
                let actual = error.conflict?.actual ?? -1
                if expectedVersion != nil || attempt >= options.maxAttempts {
                    throw EngineError.conflict(stream, expected: error.conflict?.expected ?? -1, actual: actual)
                }
                logger.debug("conflict, retrying", metadata: ["stream": "\(stream)", "attempt": "\(attempt)"])
                usleep(UInt32.random(in: 0...(UInt32(1) << min(attempt, 6)) * 500))
            }
        }
    }

    private func attemptCommand(_ agg: AggregateInfo, _ stream: StreamID, _ command: String, _ args: String,
                                _ meta: String?, _ expectedVersion: Int64?) throws -> CommandResult {
        let (ref, version) = try takeState(agg, stream)
        if let expectedVersion, expectedVersion != version {
            putState(stream, ref: ref, version: version)
            throw EngineError.conflict(stream, expected: expectedVersion, actual: version)
        }
        let results: [LuaHost.Value]
        do {
            results = try host.invoke(
                "handle", phase: .handle, label: "handler",
                args: [.string(agg.name), .ref(ref), .string(command), .json(args), .string(stream.key),
                       .int(version), meta.map { .json($0) } ?? .nilValue, .int(options.returnState ? 1 : 0)],
                results: [.events, .ref, .json])
        } catch let error as EngineError {
            if error.kind == .fault { putState(stream, ref: ref, version: version) } else { host.unref(ref) }
            throw error
        }
        guard case .ref(let newRef) = results[1], case .json(let encoded) = results[2] else {
            fatalError("handle returns events, a state ref and the state's JSON")
        }
        host.unref(ref)
        let stateJSON = options.returnState ? encoded : nil
        let produced = host.producedEvents()
        if produced.isEmpty {
            putState(stream, ref: newRef, version: version)
            return CommandResult(events: [], version: version, state: stateJSON)
        }
        let eventMeta = eventMeta(command: command, extra: meta)
        let newEvents = produced.map { NewEvent(type: $0.type, schema: $0.schema, data: $0.data, meta: eventMeta) }
        let recorded: [RecordedEvent]
        do {
            recorded = try store.append(newEvents, to: stream, expectedVersion: version)
        } catch {
            host.unref(newRef)
            throw error
        }
        let newVersion = version + Int64(recorded.count)
        snapshotIfDue(agg, stream, ref: newRef, from: version, to: newVersion, encoded: stateJSON)
        putState(stream, ref: newRef, version: newVersion)
        return CommandResult(events: recorded, version: newVersion, state: stateJSON)
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
        let (ref, reached) = try takeState(agg, stream)
        defer { putState(stream, ref: ref, version: reached) }
        return StateResult(version: reached, state: try encodeState(ref))
    }

    /// The stored events of one aggregate instance.
    public func history(aggregate name: String, key: String) throws -> [RecordedEvent] {
        _ = try aggregate(name)
        return try store.events(of: StreamID(aggregate: name, key: key), after: 0, upTo: nil, limit: nil)
    }

    /// Drops every cached state (after a reload, or to measure cold reads).
    public func dropCache() {
        for ref in cache.removeAll() { host.unref(ref) }
    }

    /// Metadata stored with each event of a command: its name, plus the caller's.
    func eventMeta(command: String, extra: String?) -> String {
        if extra == nil, let cached = plainMeta[command] { return cached }
        var members = "\"command\":" + JSONText.quote(command)
        if let extra {
            let inner = extra.trimmingCharacters(in: .whitespacesAndNewlines).dropFirst().dropLast()
            if !inner.trimmingCharacters(in: .whitespaces).isEmpty { members += "," + inner }
        }
        let meta = "{" + members + "}"
        if extra == nil { plainMeta[command] = meta }
        return meta
    }
}
