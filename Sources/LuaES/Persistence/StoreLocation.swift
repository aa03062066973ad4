/// Where an esrun command keeps its events (`--db PATH`, `--memory`).
public enum StoreLocation: Sendable {
    case sqlite(path: String, durability: SQLiteEventStore.Durability)
    case memory

    /// Opens (creating when needed) the store.
    /// - Throws: `StoreError` when the file cannot be opened or is not an esrun database.
    public func open() throws -> EventStore {
        switch self {
        case .sqlite(let path, let durability): return try SQLiteEventStore(path: path, durability: durability)
        case .memory: return InMemoryEventStore()
        }
    }
}
