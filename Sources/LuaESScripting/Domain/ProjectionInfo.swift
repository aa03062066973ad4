/// One projection of the registry.
public struct ProjectionInfo: Sendable, Codable, Equatable {
    public var name: String
    /// Hash of what determines its views: `initial`, its handlers, and the versions and
    /// upcasters of the event types it reads. A new fingerprint means a rebuild.
    public var fingerprint: String
    /// The event types it handles, as written (`Deposited`, `Account.Opened`).
    public var handles: [String]
    /// The stored events that reach a handler, as `Aggregate.StoredType` (former names included).
    public var events: [String]
    /// Handled names that no aggregate declares (likely typos).
    public var unknownEvents: [String]
    /// Handlers that can carry state from one event to the next (captured tables, assigned
    /// upvalues), one readable line each; `esrun check` prints them.
    public var warnings: [String] = []

    enum CodingKeys: String, CodingKey {
        case name, fingerprint, handles, events, warnings
        case unknownEvents = "unknown_events"
    }

    public init(name: String, fingerprint: String, handles: [String], events: [String], unknownEvents: [String]) {
        self.name = name
        self.fingerprint = fingerprint
        self.handles = handles
        self.events = events
        self.unknownEvents = unknownEvents
    }
}
