import CToolScripts

/// Lua sources the tools write out for other programs (Sources/CToolScripts/lua), compiled in.
enum ToolScript {
    static func text(_ name: String) -> String {
        var length = 0
        guard let bytes = esr_tool_script(name, &length) else { preconditionFailure("no compiled-in script \(name)") }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: length), as: UTF8.self)
    }
}
