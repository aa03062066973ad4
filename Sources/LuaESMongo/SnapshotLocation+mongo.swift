import LuaESStore

extension SnapshotLocation {
    /// Snapshots in a MongoDB database (`esrun --snapshots mongodb://HOST/DATABASE?...`), for any event store.
    ///
    /// The URL is checked now; the server is reached on first use.
    /// - Throws: `InputError` (`bad_url`) for a malformed URL or one without a database.
    public static func mongodb(url: String) throws -> SnapshotLocation {
        let configuration = try MongoStoreConfiguration(url: url)
        return .external(name: configuration.displayName) {
            try MongoSnapshotStore(configuration: configuration)
        }
    }
}
