import Logging
import LuaESStore

extension StoreLocation {
    /// A PostgreSQL database (`esrun --postgres URL`), shared by several esrun processes.
    ///
    /// The URL is checked now; the connection is made by `open()`.
    /// - Throws: `InputError` (`bad_url`) for a malformed URL.
    public static func postgres(url: String) throws -> StoreLocation {
        let configuration = try PostgresStoreConfiguration(url: url)
        return .external(name: configuration.displayName) {
            try PostgresEventStore(configuration: configuration, logger: Logger(label: "esrun.postgres"))
        }
    }
}
