import LuaESStore

extension MongoEventStore {
    /// The commits from `after`'s sequence number on, in order, up to the first gap; a gap
    /// at the very start is waited for and filled (the type's doc comment says why this never
    /// skips an event).
    public func events(after position: Int64, limit: Int) throws -> [RecordedEvent] {
        try checkOpen()
        guard limit > 0 else { return [] }
        let after = max(position, 0)
        let start = max(MongoLayout.sequence(of: after), 1)
        do {
            while true {
                var events: [RecordedEvent] = []
                var expected = start
                var gap: Int64?
                try connection.find(MongoLayout.commits, filter: BSONDocument { $0.append("p", "$gte", start) },
                                    sort: BSONDocument { $0.append("p", int32: 1) }, batchSize: min(limit + 1, 500)) { document in
                    guard let sequence = document["p"]?.int else { return true }
                    guard sequence == expected else {
                        gap = expected
                        return false
                    }
                    expected += 1
                    if let commit = CommitDocument(document) {
                        events += commit.recorded.lazy.filter { $0.position > after }.prefix(limit - events.count)
                    }
                    return events.count < limit
                }
                guard events.isEmpty, let gap else { return events }
                _ = try occupant(of: gap, waiting: true)  // now a commit or a fill: read again
            }
        } catch {
            throw fail(error, while: "reading the feed")
        }
    }
}
