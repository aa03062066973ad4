/// Where an esrun command keeps its events (`--db PATH`, `--memory`, `--postgres URL`).
public enum StoreLocation: Sendable {
    case sqlite(path: String, durability: SQLiteEventStore.Durability)
    case memory
    /// A store from another module, which LuaES does not link (the PostgreSQL store in
    /// LuaESPostgres: `StoreLocation.postgres(url:)`). `name` says where it is, without secrets.
    case external(name: String, open: @Sendable () throws -> any EventStore)

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
        case .external(_, let open): return try open()
        }
    }
}
