import LuaESCore

/// A failure of publishing: a bad `--publish` target, an unreadable checkpoint file, a sink
/// that cannot take events. Publishing runs beside commands, never inside them.
public struct PublishError: ClassifiedError, Sendable, Equatable {
    public var kind: ErrorKind
    public var code: ErrorCode
    public var message: String

    /// The `--publish` target or the checkpoint file is not usable as given.
    public static func invalid(_ code: ErrorCode, _ message: String) -> PublishError {
        PublishError(kind: .invalid, code: code, message: message)
    }

    /// A sink or the checkpoint file failed (disk, network); the page is published again later.
    public static func failed(_ code: ErrorCode, _ message: String) -> PublishError {
        PublishError(kind: .unavailable, code: code, message: message)
    }

    public var description: String { line }
}
