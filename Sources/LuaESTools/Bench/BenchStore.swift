import LuaESStore

/// A store `esrun bench` measures instead of its own SQLite files (PostgreSQL, given by the
/// CLI, which owns the driver: this layer does not import it).
public struct BenchStore: Sendable {
    /// What the output names as the measured store.
    public var description: String
    /// Opens a fresh, empty store for `part` ("bench" for the in-process workloads, "http" for the server's).
    public var open: @Sendable (_ part: String) throws -> EventStore
    /// The `esrun serve` arguments that select the store of `part`.
    public var serveArguments: @Sendable (_ part: String) -> [String]
    /// Removes what the parts left (called once, at the end, also after a failure).
    public var cleanUp: @Sendable () -> Void

    public init(description: String, open: @escaping @Sendable (String) throws -> EventStore,
                serveArguments: @escaping @Sendable (String) -> [String], cleanUp: @escaping @Sendable () -> Void) {
        self.description = description
        self.open = open
        self.serveArguments = serveArguments
        self.cleanUp = cleanUp
    }
}
