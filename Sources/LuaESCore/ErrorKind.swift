/// What went wrong, in the one vocabulary every edge shares. Each kind has exactly one
/// HTTP status, one exit code and one Lua `kind`: the table below is the only place they
/// are decided (ARCHITECTURE.md, "Errors").
public enum ErrorKind: String, Sendable, Equatable, CaseIterable {
    /// The request is malformed: a bad key, body, cursor, limit, version or argument.
    case invalid
    /// The request names an aggregate, command or projection that does not exist.
    case notFound = "not_found"
    /// The request is larger than allowed.
    case tooLarge = "too_large"
    /// No credentials, or unknown ones.
    case unauthorized
    /// The credentials do not allow this request.
    case denied
    /// A domain rule rejected the command (`fault(code, message)`).
    case fault
    /// A store middleware refused the append; nothing was stored.
    case refused
    /// The stream is not at the version the command expected.
    case conflict
    /// The script has a bug: a Lua error, a bad return value.
    case script
    /// A script ran past its memory, time or instruction budget.
    case limit
    /// A script reached for something its phase does not allow.
    case forbidden
    /// The service cannot take the request now (shutting down, no script loaded).
    case unavailable
    /// The storage failed: disk, database, network.
    case store
    /// A bug in esrun itself.
    case `internal`
}

extension ErrorKind {
    /// The status `esrun serve` answers with.
    public var httpStatus: Int {
        switch self {
        case .invalid: 400
        case .unauthorized: 401
        case .denied: 403
        case .notFound: 404
        case .conflict: 409
        case .tooLarge: 413
        case .fault, .refused: 422
        case .script, .limit, .forbidden, .internal: 500
        case .unavailable, .store: 503
        }
    }

    /// The exit code of the `esrun` command that failed with it.
    public var exitCode: Int32 {
        switch self {
        case .invalid, .notFound, .tooLarge: 2
        case .fault: 3
        case .conflict: 4
        case .script: 5
        case .limit: 6
        case .forbidden, .unauthorized, .denied: 7
        case .store, .unavailable: 8
        case .refused: 9
        case .internal: 1
        }
    }

    /// The `kind` field of the error value a driver script, spec or REPL chunk sees.
    public var luaKind: String {
        switch self {
        case .notFound, .tooLarge: "invalid"
        default: rawValue
        }
    }

    /// The kind of an error value raised in Lua (the inverse of `luaKind`; unknown text is a script error).
    public init(luaKind: String) {
        self = ErrorKind(rawValue: luaKind) ?? .script
    }
}

/// A stable, machine-readable code inside a kind: the fault's own code, `memory` for a limit,
/// `unknown_command`... Known codes are constants; faults bring their own.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }
}

/// An error that knows its kind and code, so every edge maps it through one table.
public protocol ClassifiedError: Error, CustomStringConvertible {
    var kind: ErrorKind { get }
    var code: ErrorCode { get }
    /// What a user needs to act, without the kind and code.
    var message: String { get }
    /// Where a driver script made the failing call ("demo.lua:12"), or "".
    var location: String { get }
}

extension ClassifiedError {
    public var location: String { "" }

    /// `kind: code: message`, as esrun prints errors and Lua error values read.
    public var line: String { "\(kind.luaKind): \(code): \(message)" }
}

/// One line for any error, as the CLI, the REPL and the spec runner print it:
/// `[location: ]kind: code: message`.
public func errorLine(_ error: any Error) -> String {
    guard let e = error as? any ClassifiedError else { return "\(error)" }
    return (e.location.isEmpty ? "" : e.location + ": ") + e.line
}
