import Foundation
import Logging
import LuaESCore
import LuaESStore

/// An `EventStore` in one DynamoDB table, over DynamoDB's JSON HTTP API (`esrun --dynamodb URL`).
///
/// **Items** (partition key `p`, sort key `s`; `DynamoLayout`):
/// - a stream's *head* (`e|…`, 0): its version and the tick of its last commit;
/// - one *commit item* per append (`e|…`, last version): the append's events in one item;
/// - a *feed copy* of each commit (`f|SHARD|DAY`, tick), where the global feed reads it;
/// - a shard's *fence* (`w|SHARD`, 0): the tick through which feed readers have sealed it;
/// - a *command reference* per idempotency key in an append (`c|ID`, position);
/// - snapshots (`n|…`, 0, `DynamoSnapshotStore`) and the `meta` item (shard count, creation).
///
/// **An append** is one `TransactWriteItems`: check the fence (its tick is above the seal),
/// update the head (its version is the expected one and its last tick is lower), put the
/// commit item and its feed copy (the shard's tick is free), put the command references.
/// All or nothing; a conflict is told by the head's reason code (`ConditionalCheckFailed`),
/// then a consistent read of the head gives the actual version. A lost tick race (fence,
/// feed slot or head tick) retries with a later tick; nothing was written.
///
/// **Limits**, checked before sending (`StoreError.invalid`, nothing written): one append is
/// one item of at most 400 KB (DynamoDB's item limit; the feed copy is the same size, the
/// transaction's 4 MB is never reached), at most 1024 events (positions give each commit
/// 1024 slots) and at most 90 distinct idempotency keys (a transaction has at most 100 items).
///
/// **The feed.** Positions are `tick × 2^14 + shard × 2^10 + index`: ticks are 10 µs steps of
/// a hybrid logical clock (`PositionClock`), so positions increase with time, within a
/// stream (the head's tick check) and within a shard (one commit per tick). A reader picks a
/// watermark W (50 ms before its wall clock, so appends in flight rarely retry, but never
/// before a tick this process has committed, so it reads its own appends) and first *seals* every shard
/// at W: a conditional update of each fence to W. From then on no append with a tick at or
/// below W can commit (each transaction checks its shard's fence, and DynamoDB serializes the
/// fence update with the transactions that read it), so the commits with ticks ≤ W are exactly
/// those already written, and the reader returns events of positions in (after, W] only. A
/// later read sees only later positions: it never skips one. Appends to streams of different
/// shards touch no common item; writers of one shard share its fence (read) and feed
/// partition (write), so a table takes about `feed_shards` × one partition's write rate of
/// commits (DynamoDB: about 1,000 WCU a partition; a transaction costs double). Readers pay
/// `feed_shards` fence updates and queries a read. No DynamoDB Streams and no indexer are
/// needed, so every table has a feed. A process whose clock runs ahead by S commits at later
/// ticks: other processes see its appends up to S late (never out of order, never skipped).
///
/// `events(forCommand:)` is a consistent query of the command's references (no scan, no
/// index), then a read of each commit. `streams(of:)` scans the heads: an admin call.
public final class DynamoEventStore: EventStore, @unchecked Sendable {
    // @unchecked: every stored property is immutable and Sendable except `emptyFeed`, which is
    // only touched while `lock` is held; `client` and `clock` are themselves thread-safe.
    let table: DynamoTable
    let clock = PositionClock()
    let shardCount: Int
    /// The tick of the table's setup: no commit has an earlier one (the clock starts past it).
    let createdTick: Int64
    let logger: Logger
    let snapshots: DynamoSnapshotStore
    let lock = NSLock()
    /// `after` → W of feed reads that found nothing up to W: sealed, so empty for good.
    var emptyFeed: [Int64: Int64] = [:]

    /// Opens (with `create=true`, creating) the table the configuration names.
    /// - Throws: `StoreError.invalid` for a missing or foreign table, `.io` when DynamoDB cannot be reached.
    public init(configuration: DynamoStoreConfiguration, logger: Logger = Logger(label: "esrun.dynamodb")) throws {
        let client = DynamoClient(configuration: configuration, logger: logger)
        table = DynamoTable(client: client)
        self.logger = logger
        snapshots = DynamoSnapshotStore(table: table)
        do {
            try table.prepare()
            let meta = try Self.meta(table, shards: configuration.feedShards)
            shardCount = meta.shards
            createdTick = meta.created
        } catch {
            client.close()
            throw error
        }
        clock.observe(createdTick)
    }

    /// Reads the `meta` item, writing it first when the table has none.
    private static func meta(_ table: DynamoTable, shards: Int) throws(StoreError) -> (shards: Int, created: Int64) {
        for _ in 0..<3 {
            if let item = try table.item(DynamoLayout.metaKey, 0, while: "reading the esrun meta item") {
                guard let count = item.int("shards"), (1...Int64(DynamoStoreConfiguration.maxFeedShards)).contains(count),
                      let created = item.int("created") else {
                    throw StoreError.invalid("DynamoDB table \(table.name): its meta item is not esrun's")
                }
                return (Int(count), created)
            }
            let item: [String: Any] = DynamoValue.key(DynamoLayout.metaKey, 0).merging([
                "shards": DynamoValue.number(shards), "created": DynamoValue.number(PositionClock.wallTick()),
            ]) { a, _ in a }
            do {
                _ = try table.client.call("PutItem", ["TableName": table.name, "Item": item,
                                                      "ConditionExpression": "attribute_not_exists(p)"])
            } catch let failure where failure.code == "ConditionalCheckFailedException" {
                continue  // another process set it up first: read theirs
            } catch {
                throw table.error(error, while: "setting up table \(table.name)")
            }
        }
        throw StoreError.io("DynamoDB table \(table.name): the meta item could not be read back")
    }

    public var configuration: DynamoStoreConfiguration { table.client.configuration }

    public var commitNotifier: CommitNotifying? { nil }

    /// None yet: projections on a DynamoDB store are not supported (their views would need a
    /// store of their own); `esrun projection` and `serve` with projections refuse.
    public var projections: ProjectionStore? { nil }

    public func snapshot(of stream: StreamID) throws -> Snapshot? { try snapshots.snapshot(of: stream) }

    public func saveSnapshot(_ snapshot: Snapshot) throws { try snapshots.saveSnapshot(snapshot) }

    public func close() throws {
        table.client.close()
    }

    func checkOpen() throws(StoreError) {
        if table.client.isClosed { throw StoreError.closed }
    }
}
