import LuaESCore

/// What a call into Lua failed with: the error value's kind, code and message, where a
/// driver script made the failing call, and the Lua traceback for script bugs.
public struct ScriptError: ClassifiedError, Sendable, Equatable {
    public var kind: ErrorKind
    public var code: ErrorCode
    /// The message, with the running function and file:line where known.
    public var message: String
    /// Where a driver script made the failing call ("demo.lua:12"), or "".
    public var location: String
    public var traceback: String

    public init(kind: ErrorKind, code: ErrorCode, message: String, location: String = "", traceback: String = "") {
        self.kind = kind
        self.code = code
        self.message = message
        self.location = location
        self.traceback = traceback
    }

    public var description: String { line }
}
