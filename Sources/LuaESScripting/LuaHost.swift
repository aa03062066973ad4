import CLuaShim
import Foundation
import LuaESCore

/// One sandboxed Lua state with the prelude loaded.
///
/// Not thread-safe: a host is confined to the thread (or actor) that uses it, and so is
/// every `StateRef` it hands out. Every call into Lua goes through a protected C entry
/// point; Swift never calls a Lua API that can raise (ARCHITECTURE.md, "The Lua boundary").
/// Callers use the typed methods of its extensions (`LuaHost+engine.swift`, ...).
public final class LuaHost {
    let raw: OpaquePointer
    public let limits: ScriptLimits
    var spans: [esr_event] = []
    private var argBytes: [UInt8] = []
    private var callbacks: HostCallbackBox?

    public init(limits: ScriptLimits = ScriptLimits()) throws(ScriptError) {
        guard let raw = esr_open() else {
            throw ScriptError(kind: .limit, code: "memory", message: "cannot create a Lua state (out of memory)")
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

    public var memoryInUse: Int { esr_memory_in_use(raw) }

    /// Collects garbage now; returns the bytes the state still holds.
    public func collectGarbage() -> Int { esr_collect(raw) }

    /// Stops the running call from another thread (Ctrl-C).
    func interrupt() { esr_interrupt(raw) }

    /// A handle that stops this host's running call from another thread.
    public func makeInterrupter() -> Interrupter { Interrupter(self) }

    /// Sets the handler of driving-API calls (`Counter("c1"):increment{}`), `view:get` and `ctx.log`.
    public func setCallbacks(_ handler: HostCallbacks?) {
        guard let handler else {
            esr_set_callback(raw, nil, nil)
            callbacks = nil
            return
        }
        let box = HostCallbackBox(handler)
        callbacks = box
        esr_set_callback(raw, hostCallback, Unmanaged.passUnretained(box).toOpaque())
    }

    /// The handler of host calls, to put back after a call that answers some itself.
    var callbackHandler: HostCallbacks? { callbacks?.handler }

    /// Runs a script file in the sandbox; `display` names it in errors (`counter.lua:12`).
    public func runFile(_ path: String, display: String, phase: Phase) throws(ScriptError) {
        let dir = (path as NSString).deletingLastPathComponent
        esr_set_script_dir(raw, dir.isEmpty ? "." : dir)
        if esr_run_file(raw, path, display, phase.rawValue) != 0 { throw lastError() }
    }

    /// Sets the folder `require` loads sibling modules from (runFile sets it to the script's folder).
    public func setScriptDirectory(_ directory: String) {
        esr_set_script_dir(raw, directory.isEmpty ? "." : directory)
    }

    /// An argument of a prelude entry point. Only this module builds calls; the typed
    /// methods of the extensions are the boundary.
    enum Argument {
        case int(Int64)
        case string(String)
        case json(String)
        case state(StateRef)
        case none
    }

    /// The results of one prelude call, read by position as the entry point returns them.
    struct Results {
        fileprivate var values: [esr_value]
        func int(_ i: Int) -> Int64 { values[i].i }
        func text(_ i: Int) -> String { LuaHost.string(values[i].s, values[i].len) }
        func ref(_ i: Int) -> Int32 { Int32(values[i].i) }
    }

    /// What a result of a prelude call is converted to in C.
    enum ResultKind {
        case int, string, json, ref, events

        var raw: Int32 {
            switch self {
            case .int: Int32(ESR_V_INT)
            case .string: Int32(ESR_V_STR)
            case .json: Int32(ESR_V_JSON)
            case .ref: Int32(ESR_V_REF)
            case .events: Int32(ESR_V_EVENTS)
            }
        }
    }

    /// Calls the prelude's engine function `function` (see engine.lua) in `phase`.
    func call(_ function: String, phase: Phase, label: String, _ args: [Argument] = [],
              results: [ResultKind] = []) throws(ScriptError) -> Results {
        // String arguments are copied into one reused buffer: no allocation per call.
        argBytes.removeAll(keepingCapacity: true)
        var cargs: [esr_value] = []
        cargs.reserveCapacity(args.count)
        for arg in args {
            switch arg {
            case .int(let i): cargs.append(esr_value(kind: Int32(ESR_V_INT), i: i, s: nil, len: 0))
            case .state(let state): cargs.append(esr_value(kind: Int32(ESR_V_REF), i: Int64(state.ref), s: nil, len: 0))
            case .none: cargs.append(esr_value(kind: Int32(ESR_V_NIL), i: 0, s: nil, len: 0))
            case .string(let text), .json(let text):
                let kind = if case .json = arg { ESR_V_JSON } else { ESR_V_STR }
                let offset = argBytes.count
                argBytes.append(contentsOf: text.utf8)
                // the offset rides in `i` until the buffer's address is known
                cargs.append(esr_value(kind: Int32(kind), i: Int64(offset), s: nil, len: argBytes.count - offset))
            }
        }
        var cres = results.map { esr_value(kind: $0.raw, i: 0, s: nil, len: 0) }
        argBytes.append(0) // never empty, so the buffer has an address
        let status = argBytes.withUnsafeBufferPointer { buffer -> Int32 in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            for i in cargs.indices where cargs[i].kind == Int32(ESR_V_STR) || cargs[i].kind == Int32(ESR_V_JSON) {
                cargs[i].s = base + Int(cargs[i].i)
            }
            return esr_invoke(raw, function, phase.rawValue, label, cargs, Int32(cargs.count), &cres, Int32(cres.count))
        }
        if status != 0 { throw lastError() }
        return Results(values: cres)
    }

    /// The events produced by the last call with an `.events` result.
    func producedEvents() -> [ProducedEvent] {
        (0..<Int(esr_event_count(raw))).map { i in
            let e = esr_event_at(raw, Int32(i))
            return ProducedEvent(type: Self.string(e.type, e.type_len), schema: Int(e.schema),
                                 data: Self.string(e.data, e.data_len))
        }
    }

    func lastError() -> ScriptError {
        ScriptError(
            kind: ErrorKind(luaKind: String(cString: esr_error_kind(raw))),
            code: ErrorCode(String(cString: esr_error_code(raw))),
            message: String(cString: esr_error_message(raw)),
            location: String(cString: esr_error_where(raw)),
            traceback: String(cString: esr_error_traceback(raw)))
    }

    static func string(_ p: UnsafePointer<CChar>?, _ len: Int) -> String {
        guard let p, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: len), as: UTF8.self)
    }
}
