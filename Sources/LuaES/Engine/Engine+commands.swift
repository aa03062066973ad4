import Foundation

/// Running one command: hydrate, decide, replay the new events, append (DESIGN §5).
extension Engine {
    /// A command decided and replayed onto its state, not yet appended.
    struct PreparedCommand {
        var aggregate: AggregateInfo
        var stream: StreamID
        var baseVersion: Int64
        var events: [NewEvent]
        /// The state after the events; owned by whoever holds the prepared command.
        var stateRef: Int32
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
        if let id = request.idempotencyKey, let earlier = try earlierResult(of: id, request) { return earlier }
        var attempt = 0
        while true {
            attempt += 1
            let prepared = try prepare(request)
            if prepared.events.isEmpty { return finishWithoutEvents(prepared) }
            do {
                let recorded = try store.append(prepared.events, to: prepared.stream, expectedVersion: prepared.baseVersion)
                return finish(prepared, recorded, stateRef: prepared.stateRef)
            } catch let error as StoreError where error.isConflict {
                host.unref(prepared.stateRef)
                if request.expectedVersion != nil || attempt >= options.maxAttempts {
                    let c = error.conflict!
                    throw EngineError.conflict(c.stream, expected: c.expected, actual: c.actual)
                }
                logger.debug("conflict, retrying", metadata: ["stream": "\(prepared.stream)", "attempt": "\(attempt)"])
                usleep(UInt32.random(in: 0...(UInt32(1) << min(attempt, 6)) * 500))
            } catch {
                host.unref(prepared.stateRef)
                throw error
            }
        }
    }

    /// Hydrates, runs the handler and replays its events onto the state (through their JSON form).
    func prepare(_ request: CommandRequest) throws -> PreparedCommand {
        let agg = try aggregate(request.aggregate)
        guard agg.commands.contains(request.command) else {
            throw EngineError.invalid("unknown_command", "\(agg.name) has no command '\(request.command)'")
        }
        let stream = StreamID(aggregate: agg.name, key: request.key)
        let (ref, version) = try takeState(agg, stream)
        if let expected = request.expectedVersion, expected != version {
            putState(stream, ref: ref, version: version)
            throw EngineError.conflict(stream, expected: expected, actual: version)
        }
        let every = agg.snapshotEvery < 0 ? options.snapshotEvery : agg.snapshotEvery
        let members: String
        do {
            members = try commandMetaMembers(agg, request)
        } catch {
            putState(stream, ref: ref, version: version)
            throw error
        }
        let results: [LuaHost.Value]
        do {
            results = try host.invoke(
                "handle", phase: .handle, label: "handler",
                args: [.string(agg.name), .ref(ref), .string(request.command), .json(request.args), .string(stream.key),
                       .int(version), request.meta.map { .json($0) } ?? .nilValue,
                       .int(options.returnState ? 1 : 0), .int(Int64(max(every, 0))),
                       agg.appendHooks > 0 ? .string("{" + members + "}") : .nilValue],
                results: [.events, .ref, .string, .string, .string])
        } catch let error as EngineError {
            // A fault leaves the state untouched (handlers see a read-only view); anything
            // else may have failed half-way through replay.
            if error.kind == .fault { putState(stream, ref: ref, version: version) } else { host.unref(ref) }
            throw error
        }
        guard case .ref(let newRef) = results[1], case .string(let encoded) = results[2],
              case .string(let encodeError) = results[3] else {
            fatalError("handle returns events, a state ref, the state's JSON and why it has none")
        }
        host.unref(ref)
        if !encodeError.isEmpty {
            logger.warning("state cannot be written as JSON: no snapshot or state in the result",
                           metadata: ["stream": "\(stream)", "error": "\(encodeError)"])
        }
        let produced = host.producedEvents()
        let hookMeta = hookMembers(results[4], count: produced.count)
        let events = produced.enumerated().map { i, e in
            NewEvent(type: e.type, schema: e.schema, data: e.data,
                     meta: Self.eventMeta(members: hookMeta?[i] ?? members), commandID: request.idempotencyKey)
        }
        return PreparedCommand(aggregate: agg, stream: stream, baseVersion: version, events: events,
                               stateRef: newRef, stateJSON: encoded.isEmpty ? nil : encoded)
    }

    /// After a successful append: snapshot when due, cache the state (when `stateRef` is
    /// still this command's to give), build the result.
    func finish(_ prepared: PreparedCommand, _ recorded: [RecordedEvent], stateRef: Int32?) -> CommandResult {
        let version = prepared.baseVersion + Int64(recorded.count)
        snapshotIfDue(prepared.aggregate, prepared.stream, from: prepared.baseVersion, to: version, encoded: prepared.stateJSON)
        if let stateRef { putState(prepared.stream, ref: stateRef, version: version) }
        return CommandResult(events: recorded, version: version, state: options.returnState ? prepared.stateJSON : nil)
    }

    func finishWithoutEvents(_ prepared: PreparedCommand) -> CommandResult {
        putState(prepared.stream, ref: prepared.stateRef, version: prepared.baseVersion)
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
