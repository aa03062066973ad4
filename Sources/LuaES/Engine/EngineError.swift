import LuaESCore
import LuaESScripting
import LuaESStore

/// Why a command or a read failed: a domain fault, a concurrency conflict, a script bug, a
/// limit, a sandbox violation, or invalid input. Its kind maps to HTTP, exit codes and Lua
/// through `ErrorKind`'s one table.
public struct EngineError: ClassifiedError, Sendable, Equatable {
    public typealias Kind = ErrorKind

    public var kind: Kind
    /// A stable code: the fault's code, `time`/`memory`/`instructions` for limits,
    /// the forbidden name, `unknown_command`...
    public var code: ErrorCode
    /// The message, with the running function and file:line where known.
    public var message: String
    /// Where a driver script made the failing call ("demo.lua:12"), or "".
    public var location: String
    public var traceback: String

    public init(kind: Kind, code: ErrorCode, message: String, location: String = "", traceback: String = "") {
        self.kind = kind
        self.code = code
        self.message = message
        self.location = location
        self.traceback = traceback
    }

    /// What a Lua call failed with, as the engine reports it.
    public init(_ error: ScriptError) {
        self.init(kind: error.kind, code: error.code, message: error.message, location: error.location,
                  traceback: error.traceback)
    }

    /// Any error as the engine reports it: classified errors keep their kind and code.
    public init(_ error: any Error) {
        switch error {
        case let e as EngineError: self = e
        case let e as ScriptError: self.init(e)
        case let e as any ClassifiedError: self.init(kind: e.kind, code: e.code, message: e.message)
        default: self.init(kind: .internal, code: "internal", message: "\(error)")
        }
    }

    public static func invalid(_ code: ErrorCode, _ message: String) -> EngineError {
        EngineError(kind: .invalid, code: code, message: message)
    }

    public static func notFound(_ code: ErrorCode, _ message: String) -> EngineError {
        EngineError(kind: .notFound, code: code, message: message)
    }

    static let shuttingDown = EngineError(kind: .unavailable, code: "shutting_down", message: "the server is shutting down")

    static func conflict(_ stream: StreamID, expected: Int64, actual: Int64) -> EngineError {
        EngineError(kind: .conflict, code: "conflict",
                    message: "\(stream) is at version \(actual), the command expected \(expected)")
    }

    /// `kind: code: message`, as the Lua error value's `__tostring`.
    public var description: String { line }
}
