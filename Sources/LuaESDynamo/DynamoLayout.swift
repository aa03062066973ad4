import LuaESStore

/// Where each kind of item lives in the table (partition key `p`, a string; sort key `s`, a
/// number), and how feed positions are made. `DynamoEventStore`'s doc comment explains why.
enum DynamoLayout {
    /// The esrun item that records the table's feed shard count and creation tick.
    static let metaKey = "meta"

    /// A stream's items: its head (sort key 0: version and last tick) and its commits (sort key =
    /// the commit's last version). The aggregate's length makes the key unambiguous.
    static func streamKey(_ stream: StreamID) -> String {
        "e|\(stream.aggregate.utf8.count):\(stream.aggregate)|\(stream.key)"
    }

    static func streamPrefix(aggregate: String?) -> String {
        aggregate.map { "e|\($0.utf8.count):\($0)|" } ?? "e|"
    }

    static func snapshotKey(_ stream: StreamID) -> String {
        "n|\(stream.aggregate.utf8.count):\(stream.aggregate)|\(stream.key)"
    }

    /// One feed shard's items of one day (sort key = the commit's tick).
    static func feedKey(shard: Int, bucket: Int64) -> String { "f|\(shard)|\(bucket)" }

    /// One feed shard's fence: the tick through which readers have sealed the shard.
    static func fenceKey(shard: Int) -> String { "w|\(shard)" }

    /// The commits of one idempotency key (sort key = the position of its first event there).
    static func commandKey(_ id: String) -> String { "c|" + id }

    /// Positions: tick × 2^14 + shard × 2^10 + index in the commit. Unique because a shard holds
    /// one commit per tick (a conditional write); ordered by tick first. Int64 holds ticks of
    /// 10 µs until the year 2148.
    static let maxEventsPerAppend = 1024
    static let shardBits: Int64 = 1024
    static let tickBits: Int64 = 16384

    static func position(tick: Int64, shard: Int, index: Int) -> Int64 {
        tick * tickBits + Int64(shard) * shardBits + Int64(index)
    }

    static func tick(of position: Int64) -> Int64 { position >= 0 ? position / tickBits : 0 }

    /// A feed partition holds one day of one shard.
    static let ticksPerBucket: Int64 = 86_400 * PositionClock.perSecond

    static func bucket(of tick: Int64) -> Int64 { tick / ticksPerBucket }

    /// FNV-1a of the stream's key: the same shard in every process.
    static func shard(of stream: StreamID, count: Int) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in streamKey(stream).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return Int(hash % UInt64(count))
    }

    /// DynamoDB's limit on a partition key.
    static let maxPartitionKeyBytes = 2048
    /// DynamoDB's item limit is 400 KB; the estimate below stays under it with room to spare.
    static let maxItemBytes = 400_000
}
