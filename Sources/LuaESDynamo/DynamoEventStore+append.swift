import Foundation
import LuaESStore

extension DynamoEventStore {
    @discardableResult
    public func append(_ events: [NewEvent], to stream: StreamID, expectedVersion: Int64) throws -> [RecordedEvent] {
        try append(AppendBatch(stream: stream, expectedVersion: expectedVersion, events: events)).get()
    }

    /// Each batch is its own transaction, in order: a conflict or a limit fails that batch only.
    public func append(batches: [AppendBatch]) throws -> [Result<[RecordedEvent], StoreError>] {
        try checkOpen()
        return batches.map { append($0) }
    }

    static let maxCommandsPerAppend = 90
    /// Tick races (a sealed fence, a taken feed slot) are retried this many times before failing.
    static let maxTickAttempts = 50

    func append(_ batch: AppendBatch) -> Result<[RecordedEvent], StoreError> {
        do {
            try checkOpen()
            try checkLimits(batch)
            for attempt in 1...Self.maxTickAttempts {
                if let recorded = try attemptAppend(batch, attempt: attempt) { return .success(recorded) }
            }
            return .failure(.io("DynamoDB: appending to \(batch.stream) lost the race for a feed position "
                + "\(Self.maxTickAttempts) times (clocks far apart, or readers sealing faster than writers write?)"))
        } catch {
            return .failure(error)
        }
    }

    private func checkLimits(_ batch: AppendBatch) throws(StoreError) {
        let stream = batch.stream
        guard !batch.events.isEmpty else { throw StoreError.invalid("an append needs at least one event") }
        guard batch.expectedVersion >= 0 else { throw StoreError.invalid("expected version \(batch.expectedVersion) is negative") }
        guard batch.events.count <= DynamoLayout.maxEventsPerAppend else {
            throw StoreError.invalid("an append to \(stream) of \(batch.events.count) events: DynamoDB takes at most "
                + "\(DynamoLayout.maxEventsPerAppend) events in one append (one item)")
        }
        guard DynamoLayout.streamKey(stream).utf8.count <= DynamoLayout.maxPartitionKeyBytes - 16 else {
            throw StoreError.invalid("the stream name \(stream) is too long for a DynamoDB key (at most about 2000 bytes)")
        }
        let size = CommitItem.estimatedBytes(stream, batch.events)
        guard size <= DynamoLayout.maxItemBytes else {
            throw StoreError.invalid("an append to \(stream) of \(batch.events.count) events is about \(size / 1024) KB; "
                + "on DynamoDB one append is one item of at most 400 KB: append fewer or smaller events")
        }
        let commands = Set(batch.events.compactMap(\.commandID))
        guard commands.count <= Self.maxCommandsPerAppend else {
            throw StoreError.invalid("an append to \(stream) carries \(commands.count) idempotency keys; DynamoDB takes at most "
                + "\(Self.maxCommandsPerAppend) in one append (one transaction)")
        }
        if let long = commands.first(where: { DynamoLayout.commandKey($0).utf8.count > DynamoLayout.maxPartitionKeyBytes }) {
            throw StoreError.invalid("idempotency key of \(long.utf8.count) bytes: DynamoDB keys hold at most 2046")
        }
    }

    /// One try at a tick; nil when the tick was lost (the clock has moved past it: try again).
    private func attemptAppend(_ batch: AppendBatch, attempt: Int) throws(StoreError) -> [RecordedEvent]? {
        let stream = batch.stream
        let streamKey = DynamoLayout.streamKey(stream)
        let shard = DynamoLayout.shard(of: stream, count: shardCount)
        let tick = clock.next()
        let count = Int64(batch.events.count)
        let last = batch.expectedVersion + count
        let commit = CommitItem(stream: stream, lastVersion: last, tick: tick, shard: shard,
                                recordedAt: Int64(Date().timeIntervalSince1970 * 1000), events: batch.events)
        let attributes = commit.attributes
        let name = table.name
        let tickValue = DynamoValue.number(tick)
        // Names this transaction: its idempotency token, and on the head whose append it was.
        let token = UUID().uuidString
        var items: [[String: Any]] = [
            ["ConditionCheck": ["TableName": name, "Key": DynamoValue.key(DynamoLayout.fenceKey(shard: shard), 0),
                                "ConditionExpression": "attribute_not_exists(w) OR w < :t",
                                "ExpressionAttributeValues": [":t": tickValue]] as [String: Any]],
        ]
        if batch.expectedVersion == 0 {
            let head = DynamoValue.key(streamKey, 0).merging(["v": DynamoValue.number(last), "lt": tickValue,
                                                              "tx": DynamoValue.string(token),
                                                              "a": DynamoValue.string(stream.aggregate),
                                                              "k": DynamoValue.string(stream.key)]) { a, _ in a }
            items.append(["Put": ["TableName": name, "Item": head, "ConditionExpression": "attribute_not_exists(p)"] as [String: Any]])
        } else {
            items.append(["Update": ["TableName": name, "Key": DynamoValue.key(streamKey, 0),
                                     "UpdateExpression": "SET v = :v, lt = :t, tx = :x",
                                     "ConditionExpression": "v = :e AND lt < :t",
                                     "ExpressionAttributeValues": [":v": DynamoValue.number(last), ":t": tickValue, ":x": DynamoValue.string(token),
                                                                   ":e": DynamoValue.number(batch.expectedVersion)]] as [String: Any]])
        }
        items.append(["Put": ["TableName": name, "Item": attributes.merging(DynamoValue.key(streamKey, last)) { a, _ in a },
                              "ConditionExpression": "attribute_not_exists(p)"] as [String: Any]])
        let feedKey = DynamoValue.key(DynamoLayout.feedKey(shard: shard, bucket: DynamoLayout.bucket(of: tick)), tick)
        items.append(["Put": ["TableName": name, "Item": attributes.merging(feedKey) { a, _ in a },
                              "ConditionExpression": "attribute_not_exists(p)"] as [String: Any]])
        var firstPositions: [String: Int64] = [:]
        for (index, event) in batch.events.enumerated() {
            guard let id = event.commandID, firstPositions[id] == nil else { continue }
            firstPositions[id] = DynamoLayout.position(tick: tick, shard: shard, index: index)
        }
        // One reference item per idempotency key, at a fixed sort key and only if absent: a key
        // commits once (a second commit of it is cancelled by this condition, whatever stream).
        let commandIDs = firstPositions.sorted { $0.value < $1.value }.map(\.key)
        for id in commandIDs {
            let reference = DynamoValue.key(DynamoLayout.commandKey(id), 0)
                .merging(["sp": DynamoValue.string(streamKey), "sv": DynamoValue.number(last)]) { a, _ in a }
            items.append(["Put": ["TableName": name, "Item": reference, "ConditionExpression": "attribute_not_exists(p)"] as [String: Any]])
        }
        let what = "appending \(count) events to \(stream)"
        do {
            // The token makes a resent transaction (after a timeout or a 5xx) a no-op that succeeds.
            _ = try table.client.call("TransactWriteItems", ["TransactItems": items, "ClientRequestToken": token])
            clock.committed(tick)
            return commit.recorded
        } catch let failure {
            guard case .aws(let code, let message, _, let reasons) = failure else { throw table.error(failure, while: what) }
            if code == "ValidationException", message.lowercased().contains("size") {
                throw StoreError.invalid("\(what): too large for DynamoDB (\(message)); nothing was written")
            }
            guard code == "TransactionCanceledException", reasons.count >= 4 else { throw table.error(failure, while: what) }
            if reasons[1] == "ConditionalCheckFailed" || reasons[2] == "ConditionalCheckFailed" {
                let head = try table.item(streamKey, 0, while: "reading the version of \(stream)")
                let actual = head?.int("v") ?? 0
                if actual == last, head?.string("tx") == token {
                    // Our own transaction: it committed, the answer was lost and the resend found
                    // its own write (DynamoDB answers a resend with the same token itself; moto does not).
                    clock.committed(tick)
                    return commit.recorded
                }
                if actual != batch.expectedVersion || reasons[2] == "ConditionalCheckFailed" {
                    throw StoreError.conflict(stream, expected: batch.expectedVersion, actual: actual)
                }
                clock.observe(head?.int("lt") ?? tick)  // the stream's last commit has a later tick: go past it
                return nil
            }
            if let taken = zip(commandIDs, reasons.dropFirst(4)).first(where: { $0.1 == "ConditionalCheckFailed" })?.0 {
                throw StoreError.duplicateCommand(taken)
            }
            if reasons[0] == "ConditionalCheckFailed" {
                let fence = try table.item(DynamoLayout.fenceKey(shard: shard), 0, while: "reading the feed fence")
                clock.observe(fence?.int("w") ?? tick)
                return nil
            }
            if reasons[3] == "ConditionalCheckFailed" { return nil }  // another process took this tick in the shard
            if reasons.contains(where: { $0 == "TransactionConflict" || $0 == "ThrottlingError" || $0 == "ProvisionedThroughputExceeded" }) {
                Thread.sleep(forTimeInterval: DynamoClient.backoff(attempt: attempt))
                return nil
            }
            throw table.error(failure, while: what)
        }
    }
}
