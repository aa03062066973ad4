import Logging
import LuaESStore

/// Snapshots in a DynamoDB table: one item a stream (`n|…`, sort key 0) holding the version,
/// the state and the fingerprint. The event store keeps its snapshots this way in its own
/// table; `init(url:)` opens one on any table (its own, or an event store's: the keys differ)
/// for `--snapshots dynamodb://TABLE?...`.
///
/// The fingerprint rule is one conditional `PutItem`: it replaces the stored snapshot when
/// there is none, its fingerprint differs, or its version is not higher (the contract: the same
/// version of the same code is replaced); otherwise DynamoDB refuses
/// it (`ConditionalCheckFailedException`) and the newer one stays. A state of more than about
/// 400 KB (DynamoDB's item limit) cannot be stored: `saveSnapshot` throws, which the engine
/// logs and replays from the events instead.
public final class DynamoSnapshotStore: SnapshotStore {
    let table: DynamoTable
    /// False when it shares the event store's client, which closes it.
    private let ownsClient: Bool

    init(table: DynamoTable) {
        self.table = table
        ownsClient = false
    }

    /// Opens the snapshot table the URL names (with `create=true`, creating it).
    /// - Throws: `InputError` (`bad_url`) for a bad URL, `StoreError` for a missing table or an unreachable endpoint.
    public convenience init(url: String, logger: Logger = Logger(label: "esrun.dynamodb.snapshots")) throws {
        try self.init(configuration: DynamoStoreConfiguration(url: url), logger: logger)
    }

    public init(configuration: DynamoStoreConfiguration, logger: Logger = Logger(label: "esrun.dynamodb.snapshots")) throws {
        let client = DynamoClient(configuration: configuration, logger: logger)
        table = DynamoTable(client: client)
        ownsClient = true
        do { try table.prepare() } catch {
            client.close()
            throw error
        }
    }

    public func snapshot(of stream: StreamID) throws -> Snapshot? {
        if table.client.isClosed { throw StoreError.closed }
        guard let item = try table.item(DynamoLayout.snapshotKey(stream), 0, while: "reading the snapshot of \(stream)") else {
            return nil
        }
        guard let version = item.int("v"), let state = item.string("st"), let fingerprint = item.string("fp") else {
            throw StoreError.io("DynamoDB table \(table.name): the snapshot item of \(stream) is not esrun's")
        }
        return Snapshot(stream: stream, version: version, state: state, fingerprint: fingerprint)
    }

    public func saveSnapshot(_ snapshot: Snapshot) throws {
        if table.client.isClosed { throw StoreError.closed }
        let key = DynamoLayout.snapshotKey(snapshot.stream)
        guard key.utf8.count <= DynamoLayout.maxPartitionKeyBytes else {
            throw StoreError.invalid("the stream name \(snapshot.stream) is too long for a DynamoDB key")
        }
        let item = DynamoValue.key(key, 0).merging([
            "v": DynamoValue.number(snapshot.version), "st": DynamoValue.string(snapshot.state),
            "fp": DynamoValue.string(snapshot.fingerprint),
        ]) { a, _ in a }
        do {
            _ = try table.client.call("PutItem", [
                "TableName": table.name, "Item": item,
                "ConditionExpression": "attribute_not_exists(p) OR fp <> :fp OR v <= :v",
                "ExpressionAttributeValues": [":fp": DynamoValue.string(snapshot.fingerprint),
                                              ":v": DynamoValue.number(snapshot.version)],
            ])
        } catch let failure where failure.code == "ConditionalCheckFailedException" {
            return  // a snapshot of the same code at a later version is stored: it stays
        } catch {
            throw table.error(error, while: "saving the snapshot of \(snapshot.stream)")
        }
    }

    public func close() throws {
        if ownsClient { table.client.close() }
    }
}
