import Logging
import LuaESStore

extension StoreLocation {
    /// A MongoDB database (`esrun --mongodb URL`), shared by any number of esrun processes.
    ///
    /// The URL is checked now; the server is reached by `open()`.
    /// - Throws: `InputError` (`bad_url`) for a malformed URL or one without a database.
    public static func mongodb(url: String) throws -> StoreLocation {
        let configuration = try MongoStoreConfiguration(url: url)
        return .external(name: configuration.displayName) {
            try MongoEventStore(configuration: configuration, logger: Logger(label: "esrun.mongodb"))
        }
    }
}
