import CLuaShim
import LuaESCore

/// Answers the calls Lua makes into the host: the driving API of driver scripts
/// (`execute`, `state`, `history`) and `ctx.log`. Arguments and answers are JSON text.
public protocol HostCallbacks: AnyObject {
    func hostCall(_ operation: String, argument: String) -> Result<String, ScriptError>
}

/// Holds the handler weakly so a host never keeps its engine alive.
final class HostCallbackBox {
    weak var handler: HostCallbacks?
    init(_ handler: HostCallbacks) { self.handler = handler }
}

/// The C callback: a top-level function with a context pointer (a capturing
/// closure converted to @convention(c) crashes the 6.3 compiler). It never
/// touches the Lua stack: it answers through esr_reply_ok/esr_reply_error.
func hostCallback(
    _ context: UnsafeMutableRawPointer?, _ op: UnsafePointer<CChar>?, _ arg: UnsafePointer<CChar>?,
    _ length: Int, _ reply: OpaquePointer?
) -> Int32 {
    guard let context, let op, let reply else { return 1 }
    let box = Unmanaged<HostCallbackBox>.fromOpaque(context).takeUnretainedValue()
    let argument = arg.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: length), as: UTF8.self) } ?? "null"
    guard let handler = box.handler else {
        esr_reply_error(reply, "script", "no_host", "no engine is attached to this script")
        return 0
    }
    switch handler.hostCall(String(cString: op), argument: argument) {
    case .success(let json):
        json.withCString { esr_reply_ok(reply, $0, json.utf8.count) }
    case .failure(let error):
        esr_reply_error(reply, error.kind.luaKind, error.code.rawValue, error.message)
    }
    return 0
}
