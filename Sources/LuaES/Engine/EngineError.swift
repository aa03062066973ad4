/// Why a command, a read or a script failed: a domain fault, a concurrency
/// conflict, a script bug, a limit, a sandbox violation, or invalid input.
/// The Lua side raises the same kinds (DESIGN §2), so one type serves both.
public struct EngineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The error kinds of DESIGN §2.
    public enum Kind: String, Sendable, Equatable {
        case fault, conflict, script, limit, forbidden, invalid
    }

    public var kind: Kind
    /// A stable code: the fault's code, `time`/`memory`/`instructions` for limits,
    /// the forbidden name, `unknown_command`...
    public var code: String
    /// The message, with the running function and file:line where known.
    public var message: String
    /// Where a driver script made the failing call ("demo.lua:12"), or "".
    public var location: String
    public var traceback: String

    public init(kind: Kind, code: String, message: String, location: String = "", traceback: String = "") {
        self.kind = kind
        self.code = code
        self.message = message
        self.location = location
        self.traceback = traceback
    }

    static func invalid(_ code: String, _ message: String) -> EngineError {
        EngineError(kind: .invalid, code: code, message: message)
    }

    static let shuttingDown = EngineError(kind: .limit, code: "shutting_down", message: "the server is shutting down")

    static func conflict(_ stream: StreamID, expected: Int64, actual: Int64) -> EngineError {
        EngineError(kind: .conflict, code: "conflict",
                    message: "\(stream) is at version \(actual), the command expected \(expected)")
    }

    /// `kind: code: message`, as the Lua error value's `__tostring`.
    public var description: String { "\(kind.rawValue): \(code): \(message)" }
}
