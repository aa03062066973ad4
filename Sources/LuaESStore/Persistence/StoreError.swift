import LuaESCore

/// A failure of an `EventStore`.
public struct StoreError: ClassifiedError, Sendable, Equatable {
    enum Reason: Sendable, Equatable {
        case conflict(stream: StreamID, expected: Int64, actual: Int64)
        case invalid(String)
        case io(String)
        case refused(String)
        case checkpointMoved(String)
        case duplicateCommand(String)
        case unavailable(String)
        case closed
    }

    let reason: Reason

    /// The stream's version is not the one the append expected.
    public static func conflict(_ stream: StreamID, expected: Int64, actual: Int64) -> StoreError {
        StoreError(reason: .conflict(stream: stream, expected: expected, actual: actual))
    }

    /// The request itself is wrong (empty append, not an esrun database...).
    public static func invalid(_ message: String) -> StoreError { StoreError(reason: .invalid(message)) }

    /// The storage failed (disk, database engine, network).
    public static func io(_ message: String) -> StoreError { StoreError(reason: .io(message)) }

    /// A store middleware refused the append (nothing was stored).
    public static func refused(_ message: String) -> StoreError { StoreError(reason: .refused(message)) }

    /// True when a store middleware refused the append.
    public var isRefusal: Bool {
        if case .refused = reason { return true }
        return false
    }

    /// A projection's checkpoint is not where the commit expected it (another runner moved it).
    public static func checkpointMoved(_ message: String) -> StoreError { StoreError(reason: .checkpointMoved(message)) }

    /// True when a projection commit found its checkpoint moved.
    public var isCheckpointMoved: Bool {
        if case .checkpointMoved = reason { return true }
        return false
    }

    /// An append carried a command id (an idempotency key) that an earlier commit used: the
    /// command ran already, and nothing of this append was stored. Every store enforces it
    /// where it stores (a unique key in PostgreSQL), so two nodes cannot both commit it.
    public static func duplicateCommand(_ commandID: String) -> StoreError { StoreError(reason: .duplicateCommand(commandID)) }

    /// The command id, when this append was refused because that command was committed before.
    public var duplicateCommandID: String? {
        if case .duplicateCommand(let id) = reason { return id }
        return nil
    }

    /// The storage cannot be reached now (a database server down or out of connections) and
    /// nothing was written: trying again later is safe.
    public static func unavailable(_ message: String) -> StoreError { StoreError(reason: .unavailable(message)) }

    public static let closed = StoreError(reason: .closed)

    /// Expected and actual versions when this is a conflict.
    public var conflict: (stream: StreamID, expected: Int64, actual: Int64)? {
        if case .conflict(let s, let e, let a) = reason { return (s, e, a) }
        return nil
    }

    public var isConflict: Bool { conflict != nil }

    public var kind: ErrorKind {
        switch reason {
        case .conflict, .checkpointMoved, .duplicateCommand: .conflict
        case .invalid: .invalid
        case .io: .store
        case .refused: .refused
        case .closed, .unavailable: .unavailable
        }
    }

    public var code: ErrorCode {
        switch reason {
        case .conflict: "conflict"
        case .checkpointMoved: "checkpoint_moved"
        case .duplicateCommand: "duplicate_command"
        case .invalid: "invalid"
        case .io: "store"
        case .refused: "refused"
        case .unavailable: "unavailable"
        case .closed: "closed"
        }
    }

    public var message: String {
        switch reason {
        case .conflict(let s, let e, let a): "\(s) is at version \(a), the command expected \(e)"
        case .refused(let m): m
        default: description
        }
    }

    public var description: String {
        switch reason {
        case .conflict(let s, let e, let a):
            return "conflict on \(s): expected version \(e), stream is at \(a)"
        case .invalid(let m): return m
        case .io(let m), .unavailable(let m): return m
        case .refused(let m): return "refused: " + m
        case .checkpointMoved(let m): return m
        case .duplicateCommand(let id): return "command \(id) was committed before (the same idempotency key)"
        case .closed: return "the store is closed"
        }
    }
}
