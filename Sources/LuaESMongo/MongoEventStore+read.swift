import LuaESStore

extension MongoEventStore {
    public func events(of stream: StreamID, after: Int64, upTo: Int64?, limit: Int?) throws -> [RecordedEvent] {
        try checkOpen()
        if let limit, limit <= 0 { return [] }
        if let upTo, upTo <= after { return [] }
        guard !stream.aggregate.isEmpty else { return [] }
        var filter = MongoLayout.streamFilter(stream)
        filter.append("l", "$gt", max(after, 0))
        if let upTo { filter.append("f", "$lte", upTo) }
        var out: [RecordedEvent] = []
        do {
            try connection.find(MongoLayout.commits, filter: filter, sort: BSONDocument { $0.append("f", int32: 1) },
                                batchSize: min(limit ?? 100, 100)) { document in
                guard let commit = CommitDocument(document) else { return true }
                for event in commit.recorded where event.version > after {
                    if let upTo, event.version > upTo { return false }
                    out.append(event)
                    if let limit, out.count >= limit { return false }
                }
                return true
            }
        } catch {
            throw fail(error, while: "reading \(stream)")
        }
        return out
    }

    /// The last version of the commit with the highest first version (the commits tile 1...n).
    public func version(of stream: StreamID) throws -> Int64 {
        try checkOpen()
        guard !stream.aggregate.isEmpty else { return 0 }
        do {
            let last = try connection.findOne(MongoLayout.commits, filter: MongoLayout.streamFilter(stream),
                                              sort: BSONDocument { $0.append("a", int32: -1); $0.append("k", int32: -1); $0.append("f", int32: -1) },
                                              projection: BSONDocument { $0.append("l", int32: 1) })
            return last?["l"]?.int ?? 0
        } catch {
            throw fail(error, while: "reading the version of \(stream)")
        }
    }

    /// Every stream's first commit (first version 1), in index order: an admin call.
    public func streams(of aggregate: String?) throws -> [StreamID] {
        try checkOpen()
        var filter = BSONDocument()
        if let aggregate { filter.append("a", aggregate) } else { filter.append("a", "$gt", "") }
        filter.append("f", Int64(1))
        var streams: [StreamID] = []
        do {
            try connection.find(MongoLayout.commits, filter: filter,
                                sort: BSONDocument { $0.append("a", int32: 1); $0.append("k", int32: 1) },
                                projection: BSONDocument { $0.append("a", int32: 1); $0.append("k", int32: 1) },
                                batchSize: 1000) { document in
                if let a = document["a"]?.string, !a.isEmpty, let k = document["k"]?.string {
                    streams.append(StreamID(aggregate: a, key: k))
                }
                return true
            }
        } catch {
            throw fail(error, while: "listing streams")
        }
        return streams.sorted { ($0.aggregate, $0.key) < ($1.aggregate, $1.key) }
    }
}
