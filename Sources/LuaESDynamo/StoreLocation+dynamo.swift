import Logging
import LuaESStore

extension StoreLocation {
    /// A DynamoDB table (`esrun --dynamodb URL`), shared by any number of esrun processes.
    ///
    /// The URL, region and credentials are checked now; the table is opened by `open()`.
    /// - Throws: `InputError` (`bad_url`) for a malformed URL or missing region or credentials.
    public static func dynamodb(url: String) throws -> StoreLocation {
        let configuration = try DynamoStoreConfiguration(url: url)
        return .external(name: configuration.displayName) {
            try DynamoEventStore(configuration: configuration, logger: Logger(label: "esrun.dynamodb"))
        }
    }
}
