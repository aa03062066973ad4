import LuaESStore

extension DynamoEventStore {
    public func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent] {
        try checkOpen()
        if let limit, limit <= 0 { return [] }
        if let upTo, upTo <= after { return [] }
        // Commits are keyed by their last version: the first with one above `after` holds after + 1.
        let request: [String: Any] = [
            "KeyConditionExpression": "p = :p AND s > :a",
            "ExpressionAttributeValues": [":p": DynamoValue.string(DynamoLayout.streamKey(stream)),
                                          ":a": DynamoValue.number(max(after, 0))],
            "Limit": min(limit ?? 500, 500),
        ]
        func collect(_ items: [[String: Any]]) -> (events: [RecordedEvent], complete: Bool) {
            var out: [RecordedEvent] = []
            for item in items {
                guard let commit = CommitItem(item: item) else { continue }
                for event in commit.recorded where event.version > after {
                    if let upTo, event.version > upTo { return (out, true) }
                    out.append(event)
                    if let limit, out.count >= limit { return (out, true) }
                }
            }
            return (out, false)
        }
        let items = try table.query(request, while: "reading \(stream)") { collect($0).complete }
        return collect(items).events
    }

    public func version(of stream: StreamID) throws -> Int64 {
        try checkOpen()
        return try table.item(DynamoLayout.streamKey(stream), 0, while: "reading the version of \(stream)")?.int("v") ?? 0
    }

    /// A consistent query of the key's references, then each commit they name.
    public func events(forCommand commandID: String) throws -> [RecordedEvent] {
        try checkOpen()
        guard DynamoLayout.commandKey(commandID).utf8.count <= DynamoLayout.maxPartitionKeyBytes else { return [] }
        let references = try table.query([
            "KeyConditionExpression": "p = :p",
            "ExpressionAttributeValues": [":p": DynamoValue.string(DynamoLayout.commandKey(commandID))],
        ], while: "looking up command \(commandID)")
        var out: [RecordedEvent] = []
        var seen = Set<String>()
        for reference in references {
            guard let streamKey = reference.string("sp"), let version = reference.int("sv"),
                  seen.insert("\(version) \(streamKey)").inserted,
                  let item = try table.item(streamKey, version, while: "reading the commit of command \(commandID)"),
                  let commit = CommitItem(item: item) else { continue }
            out += zip(commit.events, commit.recorded).filter { $0.0.commandID == commandID }.map(\.1)
        }
        return out.sorted { $0.position < $1.position }
    }

    /// Scans the table for stream heads: proportional to the table's size, for tools, not hot paths.
    public func streams(of aggregate: String?) throws -> [StreamID] {
        try checkOpen()
        var request: [String: Any] = [
            "TableName": table.name, "ConsistentRead": true,
            "FilterExpression": "s = :z AND begins_with(p, :pre)", "ProjectionExpression": "a, k",
            "ExpressionAttributeValues": [":z": DynamoValue.number(0),
                                          ":pre": DynamoValue.string(DynamoLayout.streamPrefix(aggregate: aggregate))],
        ]
        var streams: [StreamID] = []
        while true {
            let answer: [String: Any]
            do { answer = try table.client.call("Scan", request) } catch { throw table.error(error, while: "listing streams") }
            for item in answer["Items"] as? [[String: Any]] ?? [] {
                if let a = item.string("a"), let k = item.string("k") { streams.append(StreamID(aggregate: a, key: k)) }
            }
            guard let next = answer["LastEvaluatedKey"] as? [String: Any] else { break }
            request["ExclusiveStartKey"] = next
        }
        return streams.sorted { ($0.aggregate, $0.key) < ($1.aggregate, $1.key) }
    }
}
