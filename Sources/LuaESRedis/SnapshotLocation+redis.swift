import Logging
import LuaESStore

extension SnapshotLocation {
    /// Snapshots in Redis (`esrun --snapshots redis://...` or `rediss://...`).
    ///
    /// The URL is checked now; the connection is made on first use.
    /// - Throws: `InputError` (`bad_url`) for a malformed URL.
    public static func redis(url: String) throws -> SnapshotLocation {
        let configuration = try RedisSnapshotStoreConfiguration(url: url)
        return .external(name: configuration.displayName) {
            try RedisSnapshotStore(configuration: configuration, logger: Logger(label: "esrun.redis"))
        }
    }
}
