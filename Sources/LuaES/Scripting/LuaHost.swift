import CLuaShim
import Foundation

/// One sandboxed Lua state with the prelude loaded.
///
/// Not thread-safe: a host is confined to the thread (or actor) that uses it.
/// Every call into Lua goes through a protected C entry point; Swift never
/// calls a Lua API that can raise.
final class LuaHost {
    let raw: OpaquePointer
    let limits: ScriptLimits
    private var spans: [esr_event] = []
    private var argBytes: [UInt8] = []
    private var callbacks: HostCallbackBox?

    init(limits: ScriptLimits = ScriptLimits()) throws {
        guard let raw = esr_open() else {
            throw EngineError(kind: .limit, code: "memory", message: "cannot create a Lua state (out of memory)")
        }
        self.raw = raw
        self.limits = limits
        for (phase, budget) in [(Phase.load, limits.load), (.host, limits.host), (.handle, limits.handle), (.replay, limits.replay)] {
            esr_set_limits(raw, phase.rawValue, esr_limits(
                memory_bytes: budget.memoryBytes, time_ms: Int64(budget.timeMilliseconds), instructions: Int64(budget.instructions)))
        }
        // The encoder recurses in C (~600 bytes a level): a depth cap keeps it far from the stack's end.
        esr_set_json_limits(raw, esr_json_limits(max_depth: Int32(min(max(limits.jsonDepth, 1), 512)), max_bytes: limits.jsonBytes))
        if esr_load_prelude(raw) != 0 { throw lastError() }
    }

    /// The prelude's chunks in load order ("prelude/sandbox.lua", ...), as compiled into the binary.
    static var preludeChunkNames: [String] {
        var names: [String] = []
        while let name = esr_prelude_chunk_name(Int32(names.count)) { names.append(String(cString: name)) }
        return names
    }

    deinit { esr_close(raw) }

    var memoryInUse: Int { esr_memory_in_use(raw) }

    /// Collects garbage now; returns the bytes the state still holds.
    func collectGarbage() -> Int { esr_collect(raw) }

    /// Stops the running call from another thread (Ctrl-C).
    func interrupt() { esr_interrupt(raw) }

    /// Sets the handler of driving-API calls (`Counter("c1"):increment{}`) and `ctx.log`.
    func setCallbacks(_ handler: HostCallbacks?) {
        guard let handler else {
            esr_set_callback(raw, nil, nil)
            callbacks = nil
            return
        }
        let box = HostCallbackBox(handler)
        callbacks = box
        esr_set_callback(raw, hostCallback, Unmanaged.passUnretained(box).toOpaque())
    }

    /// Runs a script file in the sandbox; `display` names it in errors (`counter.lua:12`).
    func runFile(_ path: String, display: String, phase: Phase) throws {
        let dir = (path as NSString).deletingLastPathComponent
        esr_set_script_dir(raw, dir.isEmpty ? "." : dir)
        if esr_run_file(raw, path, display, phase.rawValue) != 0 { throw lastError() }
    }

    /// Sets the folder `require` loads sibling modules from (runFile sets it to the script's folder).
    func setScriptDirectory(_ directory: String) {
        esr_set_script_dir(raw, directory.isEmpty ? "." : directory)
    }

    /// A value handed to or returned by `invoke`.
    enum Value {
        case int(Int64)
        case string(String)
        case json(String)
        case ref(Int32)
        case nilValue
    }

    /// What `invoke` should turn a result into.
    enum ResultKind {
        case int, string, json, ref, events
    }

    /// Calls the prelude's engine function `function` with `args`.
    func invoke(_ function: String, phase: Phase, label: String, args: [Value], results: [ResultKind]) throws -> [Value] {
        // String arguments are copied into one reused buffer: no allocation per call.
        argBytes.removeAll(keepingCapacity: true)
        var cargs: [esr_value] = []
        cargs.reserveCapacity(args.count)
        for arg in args {
            switch arg {
            case .int(let i): cargs.append(esr_value(kind: Int32(ESR_V_INT), i: i, s: nil, len: 0))
            case .ref(let r): cargs.append(esr_value(kind: Int32(ESR_V_REF), i: Int64(r), s: nil, len: 0))
            case .nilValue: cargs.append(esr_value(kind: Int32(ESR_V_NIL), i: 0, s: nil, len: 0))
            case .string(let text), .json(let text):
                let kind = if case .json = arg { ESR_V_JSON } else { ESR_V_STR }
                let offset = argBytes.count
                argBytes.append(contentsOf: text.utf8)
                // the offset rides in `i` until the buffer's address is known
                cargs.append(esr_value(kind: Int32(kind), i: Int64(offset), s: nil, len: argBytes.count - offset))
            }
        }
        var cres = results.map { kind -> esr_value in
            let k: Int32 = switch kind {
            case .int: Int32(ESR_V_INT)
            case .string: Int32(ESR_V_STR)
            case .json: Int32(ESR_V_JSON)
            case .ref: Int32(ESR_V_REF)
            case .events: Int32(ESR_V_EVENTS)
            }
            return esr_value(kind: k, i: 0, s: nil, len: 0)
        }
        argBytes.append(0) // never empty, so the buffer has an address
        let status = argBytes.withUnsafeBufferPointer { buffer -> Int32 in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            for i in cargs.indices where cargs[i].kind == Int32(ESR_V_STR) || cargs[i].kind == Int32(ESR_V_JSON) {
                cargs[i].s = base + Int(cargs[i].i)
            }
            return esr_invoke(raw, function, phase.rawValue, label, cargs, Int32(cargs.count), &cres, Int32(cres.count))
        }
        if status != 0 { throw lastError() }
        return zip(results, cres).map { kind, v in
            switch kind {
            case .int, .events: return .int(v.i)
            case .ref: return .ref(Int32(v.i))
            case .string: return .string(Self.string(v.s, v.len))
            case .json: return .json(Self.string(v.s, v.len))
            }
        }
    }

    /// The events produced by the last `invoke` with an `.events` result.
    func producedEvents() -> [(type: String, schema: Int, data: String)] {
        (0..<Int(esr_event_count(raw))).map { i in
            let e = esr_event_at(raw, Int32(i))
            return (Self.string(e.type, e.type_len), Int(e.schema), Self.string(e.data, e.data_len))
        }
    }

    /// Replays a page of events onto the state at `stateRef` (which changes when a replay returns a new table).
    func replay(aggregate: String, stateRef: inout Int32, page: ReplayPage) throws {
        guard page.count > 0 else { return }
        var ref = CInt(stateRef)
        let status = page.bytes.withUnsafeBufferPointer { buf -> Int32 in
            let base = UnsafeRawPointer(buf.baseAddress!).assumingMemoryBound(to: CChar.self)
            spans.removeAll(keepingCapacity: true)
            for e in page.entries {
                spans.append(esr_event(type: base + e.typeOffset, type_len: e.typeLength, data: base + e.dataOffset,
                                       data_len: e.dataLength, schema: Int64(e.schema)))
            }
            return esr_replay(raw, aggregate, &ref, spans, Int32(spans.count))
        }
        stateRef = Int32(ref)
        if status != 0 { throw lastError() }
    }

    func unref(_ ref: Int32) { esr_unref(raw, ref) }

    func lastError() -> EngineError {
        EngineError(
            kind: EngineError.Kind(rawValue: String(cString: esr_error_kind(raw))) ?? .script,
            code: String(cString: esr_error_code(raw)),
            message: String(cString: esr_error_message(raw)),
            location: String(cString: esr_error_where(raw)),
            traceback: String(cString: esr_error_traceback(raw)))
    }

    private static func string(_ p: UnsafePointer<CChar>?, _ len: Int) -> String {
        guard let p, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
    }
}
