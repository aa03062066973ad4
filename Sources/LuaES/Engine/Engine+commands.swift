import Foundation
import LuaESCore
import LuaESScripting
import LuaESStore

/// Running one command: hydrate, decide, replay the new events, append (ARCHITECTURE.md, "The engine").
extension Engine {
    /// A command decided and replayed onto its state, not yet appended.
    struct PreparedCommand {
        var aggregate: AggregateInfo
        var stream: StreamID
        var baseVersion: Int64
        var events: [NewEvent]
        /// The state after the events.
        var state: StateRef
        /// JSON of that state, when the caller wants it or a snapshot is due.
        var stateJSON: String?
    }

    /// Runs `command` on `aggregate`/`key`.
    /// - Parameters:
    ///   - args: JSON object text, the command's arguments.
    ///   - meta: JSON object text stored with each event (correlation id, user...).
    ///   - expectedVersion: when given, a stream at another version is a conflict (no retry).
    /// - Throws: `EngineError` (fault, conflict, script, limit, forbidden, invalid) or `StoreError`.
    public func execute(aggregate: String, key: String, command: String, args: String = "{}",
                        meta: String? = nil, expectedVersion: Int64? = nil) throws -> CommandResult {
        try execute(CommandRequest(aggregate: aggregate, key: key, command: command, args: args, meta: meta,
                                   expectedVersion: expectedVersion))
    }

    /// Runs one command, retrying on conflicts (bounded, jittered) unless it names an expected version.
    public func execute(_ request: CommandRequest) throws -> CommandResult {
        try Self.check(request)
        if let id = request.idempotencyKey, let earlier = try earlierResult(of: id, request) { return earlier }
        var attempt = 0
        while true {
            attempt += 1
            let prepared = try prepare(request)
            if prepared.events.isEmpty { return finishWithoutEvents(prepared) }
            do {
                let recorded = try store.append(prepared.events, to: prepared.stream, expectedVersion: prepared.baseVersion)
                return finish(prepared, recorded, caching: true)
            } catch let error as StoreError where error.isConflict || error.duplicateCommandID != nil {
                // Another node may have committed this very command (same idempotency key) meanwhile:
                // then its result is the answer, whatever the conflict says.
                if let id = request.idempotencyKey, let earlier = try earlierResult(of: id, request) { return earlier }
                guard error.isConflict else { throw error }
                if request.expectedVersion != nil || attempt >= options.maxAttempts {
                    let c = error.conflict!
                    throw EngineError.conflict(c.stream, expected: c.expected, actual: c.actual)
                }
                logger.debug("conflict, retrying", metadata: ["stream": "\(prepared.stream)", "attempt": "\(attempt)"])
                usleep(UInt32.random(in: 0...(UInt32(1) << min(attempt, 6)) * 500))
            }
        }
    }

    /// The request's key, command name and arguments against `InputRules`, before anything is
    /// read or run (the aggregate's name is checked where it is looked up, `aggregate(_:)`).
    static func check(_ request: CommandRequest) throws(EngineError) {
        try asEngineError { () throws(InputError) in
            try InputRules.checkKey(request.key)
            try InputRules.checkName(request.command, what: "command")
            try InputRules.checkArguments(request.args)
            if let expected = request.expectedVersion { try InputRules.checkCursor(expected, name: "the expected version") }
        }
    }

    /// Hydrates, runs the handler and replays its events onto the state (through their JSON form).
    func prepare(_ request: CommandRequest) throws -> PreparedCommand {
        let agg = try aggregate(request.aggregate)
        guard agg.commands.contains(request.command) else {
            throw EngineError.invalid("unknown_command", "\(agg.name) has no command '\(request.command)'")
        }
        let stream = StreamID(aggregate: agg.name, key: request.key)
        let (state, version) = try takeState(agg, stream)
        if let expected = request.expectedVersion, expected != version {
            putState(stream, state, version: version)
            throw EngineError.conflict(stream, expected: expected, actual: version)
        }
        let every = agg.snapshotEvery < 0 ? options.snapshotEvery : agg.snapshotEvery
        let members: String, base: UUIDBits
        do {
            (members, base) = try commandMetaMembers(agg, request)
        } catch {
            putState(stream, state, version: version)
            throw error
        }
        let outcome: HandleOutcome
        do throws(ScriptError) {
            outcome = try host.handle(
                HandleCall(aggregate: agg.name, command: request.command, args: request.args, key: stream.key,
                           version: version, meta: request.meta, wantsState: options.returnState,
                           snapshotEvery: every, hookMeta: agg.appendHooks > 0 ? members : nil),
                on: state)
        } catch {
            // A fault leaves the state untouched (handlers see a read-only view); anything
            // else may have failed half-way through replay.
            if error.kind == .fault { putState(stream, state, version: version) }
            throw EngineError(error)
        }
        if let encodeError = outcome.stateEncodingError {
            logger.warning("state cannot be written as JSON: no snapshot or state in the result",
                           metadata: ["stream": "\(stream)", "error": "\(encodeError)"])
        }
        let events = outcome.events.enumerated().map { i, e in
            NewEvent(type: e.type, schema: e.schema, data: e.data,
                     meta: eventMeta(members: outcome.eventMeta?[i] ?? members, base: base, ordinal: i), commandID: request.idempotencyKey)
        }
        return PreparedCommand(aggregate: agg, stream: stream, baseVersion: version, events: events,
                               state: outcome.state, stateJSON: outcome.stateJSON)
    }

    /// After a successful append: snapshot when due, cache the state (unless a batch cached
    /// it already), build the result.
    func finish(_ prepared: PreparedCommand, _ recorded: [RecordedEvent], caching: Bool) -> CommandResult {
        let version = prepared.baseVersion + Int64(recorded.count)
        snapshotIfDue(prepared.aggregate, prepared.stream, from: prepared.baseVersion, to: version, encoded: prepared.stateJSON)
        if caching { putState(prepared.stream, prepared.state, version: version) }
        return CommandResult(events: recorded, version: version, state: options.returnState ? prepared.stateJSON : nil)
    }

    func finishWithoutEvents(_ prepared: PreparedCommand) -> CommandResult {
        putState(prepared.stream, prepared.state, version: prepared.baseVersion)
        return CommandResult(events: [], version: prepared.baseVersion,
                             state: options.returnState ? prepared.stateJSON : nil)
    }

    /// The first result of a command already committed under idempotency key `id`.
    func earlierResult(of id: String, _ request: CommandRequest) throws -> CommandResult? {
        let events = try store.events(forCommand: id)
        guard let last = events.last else { return nil }
        guard last.stream == StreamID(aggregate: request.aggregate, key: request.key) else {
            throw EngineError.invalid("idempotency_key_reused",
                                      "idempotency key \(id) was used for a command on \(last.stream)")
        }
        let state = options.returnState ? try self.state(aggregate: request.aggregate, key: request.key, at: last.version).state : nil
        return CommandResult(events: events, version: last.version, state: state)
    }
}
