/// Where an esrun command keeps its events (`--db PATH`, `--memory`).
public enum StoreLocation: Sendable {
    case sqlite(path: String, durability: SQLiteEventStore.Durability)
    case memory

    /// The SQLite file, when the store has one.
    public var databasePath: String? {
        if case .sqlite(let path, _) = self { return path }
        return nil
    }

    /// Opens (creating when needed) the store.
    /// - Throws: `StoreError` when the file cannot be opened or is not an esrun database.
    public func open() throws -> EventStore {
        switch self {
        case .sqlite(let path, let durability): return try SQLiteEventStore(path: path, durability: durability)
        case .memory: return InMemoryEventStore()
        }
    }
}
