/// Identifies one event stream: an aggregate type and the key of one instance.
public struct StreamID: Hashable, Sendable, CustomStringConvertible {
    public var aggregate: String
    public var key: String

    public init(aggregate: String, key: String) {
        self.aggregate = aggregate
        self.key = key
    }

    public var description: String { "\(aggregate)/\(key)" }
}

/// An event about to be appended: the store gives it a position, a version and a time.
public struct NewEvent: Sendable, Equatable {
    public var type: String
    /// Event schema version (ARCHITECTURE.md, "Evolution"), 1 unless the type declares another.
    public var schema: Int
    /// JSON text of the event's data.
    public var data: String
    /// JSON text of the event's metadata.
    public var meta: String
    /// The idempotency key of the command that decided it, when the caller gave one.
    public var commandID: String?

    public init(type: String, schema: Int = 1, data: String, meta: String = "{}", commandID: String? = nil) {
        self.type = type
        self.schema = schema
        self.data = data
        self.meta = meta
        self.commandID = commandID
    }
}

/// An event as stored.
public struct RecordedEvent: Sendable, Equatable {
    /// Global order: strictly increasing over the whole store.
    public var position: Int64
    public var stream: StreamID
    /// 1, 2, 3... within the stream.
    public var version: Int64
    public var type: String
    public var schema: Int
    public var data: String
    public var meta: String
    /// Milliseconds since the Unix epoch.
    public var recordedAt: Int64

    public init(position: Int64, stream: StreamID, version: Int64, type: String, schema: Int,
                data: String, meta: String, recordedAt: Int64) {
        self.position = position
        self.stream = stream
        self.version = version
        self.type = type
        self.schema = schema
        self.data = data
        self.meta = meta
        self.recordedAt = recordedAt
    }
}

/// A stored state of one stream at a version, tagged with the fingerprint of the
/// code that produced it (ARCHITECTURE.md, "Storage guarantees"): a snapshot whose fingerprint differs from
/// the loaded script is never trusted.
public struct Snapshot: Sendable, Equatable {
    public var stream: StreamID
    public var version: Int64
    /// JSON text of the state.
    public var state: String
    public var fingerprint: String

    public init(stream: StreamID, version: Int64, state: String, fingerprint: String) {
        self.stream = stream
        self.version = version
        self.state = state
        self.fingerprint = fingerprint
    }
}
