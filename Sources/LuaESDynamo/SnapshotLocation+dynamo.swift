import Logging
import LuaESStore

extension SnapshotLocation {
    /// Snapshots in a DynamoDB table (`esrun --snapshots dynamodb://TABLE?...`), for any event store.
    ///
    /// The URL, region and credentials are checked now; the table is opened on first use.
    /// - Throws: `InputError` (`bad_url`) for a malformed URL or missing region or credentials.
    public static func dynamodb(url: String) throws -> SnapshotLocation {
        let configuration = try DynamoStoreConfiguration(url: url)
        return .external(name: configuration.displayName) {
            try DynamoSnapshotStore(configuration: configuration, logger: Logger(label: "esrun.dynamodb.snapshots"))
        }
    }
}
