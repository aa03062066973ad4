/// A failure of an `EventStore`.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    enum Kind: Sendable, Equatable {
        case conflict(stream: StreamID, expected: Int64, actual: Int64)
        case invalid(String)
        case io(String)
        case refused(String)
        case checkpointMoved(String)
        case closed
    }

    let kind: Kind

    /// The stream's version is not the one the append expected.
    public static func conflict(_ stream: StreamID, expected: Int64, actual: Int64) -> StoreError {
        StoreError(kind: .conflict(stream: stream, expected: expected, actual: actual))
    }

    /// The request itself is wrong (empty append, not an esrun database...).
    public static func invalid(_ message: String) -> StoreError { StoreError(kind: .invalid(message)) }

    /// The storage failed (disk, database engine, network).
    public static func io(_ message: String) -> StoreError { StoreError(kind: .io(message)) }

    /// A store middleware refused the append (nothing was stored).
    public static func refused(_ message: String) -> StoreError { StoreError(kind: .refused(message)) }

    /// True when a store middleware refused the append.
    public var isRefusal: Bool {
        if case .refused = kind { return true }
        return false
    }

    /// A projection's checkpoint is not where the commit expected it (another runner moved it).
    public static func checkpointMoved(_ message: String) -> StoreError { StoreError(kind: .checkpointMoved(message)) }

    /// True when a projection commit found its checkpoint moved.
    public var isCheckpointMoved: Bool {
        if case .checkpointMoved = kind { return true }
        return false
    }

    public static let closed = StoreError(kind: .closed)

    /// Expected and actual versions when this is a conflict.
    public var conflict: (stream: StreamID, expected: Int64, actual: Int64)? {
        if case .conflict(let s, let e, let a) = kind { return (s, e, a) }
        return nil
    }

    public var isConflict: Bool { conflict != nil }

    public var description: String {
        switch kind {
        case .conflict(let s, let e, let a):
            return "conflict on \(s): expected version \(e), stream is at \(a)"
        case .invalid(let m): return m
        case .io(let m): return m
        case .refused(let m): return "refused: " + m
        case .checkpointMoved(let m): return m
        case .closed: return "the store is closed"
        }
    }
}
