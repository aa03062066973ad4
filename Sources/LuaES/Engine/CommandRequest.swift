import LuaESCore
import LuaESScripting
import LuaESStore

/// One command for `Engine.execute`.
public struct CommandRequest: Sendable {
    public var aggregate: String
    public var key: String
    public var command: String
    /// JSON object text: the command's arguments.
    public var args: String
    /// JSON object text stored with each event (correlation id, user...).
    public var meta: String?
    /// When given, a stream at another version is a conflict (no retry).
    public var expectedVersion: Int64?
    /// When given, a command already committed with this key is not run again: its first
    /// result is returned (the key is stored with the events, so this survives restarts).
    public var idempotencyKey: String?
    /// Stored as the events' `correlation_id` (and `request_id`), without parsing `meta`:
    /// servers set it from the request.
    public var requestID: String?

    public init(aggregate: String, key: String, command: String, args: String = "{}", meta: String? = nil,
                expectedVersion: Int64? = nil, idempotencyKey: String? = nil, requestID: String? = nil) {
        self.aggregate = aggregate
        self.key = key
        self.command = command
        self.args = args
        self.meta = meta
        self.expectedVersion = expectedVersion
        self.idempotencyKey = idempotencyKey
        self.requestID = requestID
    }
}
