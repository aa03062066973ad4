import LuaESStore

extension DynamoEventStore {
    /// How far behind its clock a reader seals (50 ms): other processes' appends show up that
    /// much later, and appends in flight are rarely made to retry.
    static let feedLag: Int64 = PositionClock.perSecond / 20

    /// Seals every shard at W, then reads the feed copies with ticks up to W (the type's doc
    /// comment says why that never skips an event).
    public func events(after position: Int64, limit: Int) throws -> [RecordedEvent] {
        try checkOpen()
        guard limit > 0 else { return [] }
        let after = max(position, 0)
        let watermark = clock.watermark(lag: Self.feedLag)
        try seal(through: watermark)
        var low = max(DynamoLayout.tick(of: after + 1), createdTick)
        if let empty = lock.withLock({ emptyFeed[after] }) { low = max(low, empty + 1) }
        guard low <= watermark else { return [] }
        let events = try read(from: low, through: watermark, after: after, limit: limit)
        if events.isEmpty {
            lock.withLock {
                if emptyFeed.count > 256 { emptyFeed.removeAll() }
                emptyFeed[after] = watermark
            }
        }
        return events
    }

    /// Moves every shard's fence up to `tick` (a fence already higher stays as it is).
    private func seal(through tick: Int64) throws(StoreError) {
        let calls: [(String, [String: Any])] = (0..<shardCount).map { shard in
            ("UpdateItem", ["TableName": table.name, "Key": DynamoValue.key(DynamoLayout.fenceKey(shard: shard), 0),
                            "UpdateExpression": "SET w = :w", "ConditionExpression": "attribute_not_exists(w) OR w < :w",
                            "ExpressionAttributeValues": [":w": DynamoValue.number(tick)]])
        }
        for result in table.client.callAll(calls) {
            if case .failure(let failure) = result, failure.code != "ConditionalCheckFailedException" {
                throw table.error(failure, while: "sealing the feed")
            }
        }
    }

    private struct Cursor {
        var shard: Int
        var bucket: Int64
        var start: [String: Any]?
        var found = 0
    }

    /// Reads each shard's feed items with ticks in `low...high`, day partition after day
    /// partition, until it has `limit` events or reaches `high`; merges them by position.
    private func read(from low: Int64, through high: Int64, after: Int64, limit: Int) throws(StoreError) -> [RecordedEvent] {
        let lastBucket = DynamoLayout.bucket(of: high)
        var cursors = (0..<shardCount).map { Cursor(shard: $0, bucket: DynamoLayout.bucket(of: low)) }
        var events: [RecordedEvent] = []
        while !cursors.isEmpty {
            let calls: [(String, [String: Any])] = cursors.map { cursor in
                var query: [String: Any] = [
                    "TableName": table.name, "ConsistentRead": true, "Limit": min(limit, 1000),
                    "KeyConditionExpression": "p = :p AND s BETWEEN :lo AND :hi",
                    "ExpressionAttributeValues": [
                        ":p": DynamoValue.string(DynamoLayout.feedKey(shard: cursor.shard, bucket: cursor.bucket)),
                        ":lo": DynamoValue.number(low), ":hi": DynamoValue.number(high)],
                ]
                if let start = cursor.start { query["ExclusiveStartKey"] = start }
                return ("Query", query)
            }
            var next: [Cursor] = []
            for (var cursor, result) in zip(cursors, table.client.callAll(calls)) {
                let answer: [String: Any]
                switch result {
                case .success(let a): answer = a
                case .failure(let failure): throw table.error(failure, while: "reading the feed")
                }
                for item in answer["Items"] as? [[String: Any]] ?? [] {
                    guard let commit = CommitItem(item: item) else { continue }
                    let fresh = commit.recorded.filter { $0.position > after }
                    events += fresh
                    cursor.found += fresh.count
                }
                if let start = answer["LastEvaluatedKey"] as? [String: Any] {
                    cursor.start = start
                } else {
                    cursor.start = nil
                    cursor.bucket += 1
                }
                if cursor.found < limit, cursor.bucket <= lastBucket { next.append(cursor) }
            }
            cursors = next
        }
        events.sort { $0.position < $1.position }
        return Array(events.prefix(limit))
    }
}
