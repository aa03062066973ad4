import LuaESStore

/// The few MongoDB commands the stores use (all in MongoDB 6+: insert, find, getMore,
/// killCursors, findAndModify, update, delete, createIndexes), with their replies read.
extension MongoConnection {
    enum Written: Equatable {
        case done
        /// The write broke a unique index (error 11000): nothing was written.
        case duplicateKey
    }

    /// Write errors in an `ok: 1` reply: a duplicate key, or a failure.
    private func written(_ reply: BSONFields) throws(MongoFailure) -> Written {
        if let errors = reply["writeErrors"]?.array, let first = errors.first?.document {
            let code = Int32(first["code"]?.int ?? 0)
            if code == MongoFailure.duplicateKey { return .duplicateKey }
            throw MongoFailure(kind: .server(code: code), message: first["errmsg"]?.string ?? "write error")
        }
        if let concern = reply["writeConcernError"]?.document {
            throw MongoFailure(kind: .server(code: Int32(concern["code"]?.int ?? 0)),
                               message: "write concern: " + (concern["errmsg"]?.string ?? "failed"), mayHaveWritten: true)
        }
        return .done
    }

    func insert(_ document: BSONDocument, into collection: String) throws(MongoFailure) -> Written {
        let reply = try run(BSONDocument {
            $0.append("insert", collection)
            $0.append("documents", array: [document])
        }, .write)
        return try written(reply)
    }

    /// One update (`upsert` when asked); whether it matched, upserted or broke a unique index.
    func update(_ collection: String, filter: BSONDocument, update: BSONDocument, upsert: Bool) throws(MongoFailure) -> (Written, matched: Int64) {
        let reply = try run(BSONDocument {
            $0.append("update", collection)
            $0.append("updates", array: [BSONDocument {
                $0.append("q", filter)
                $0.append("u", update)
                $0.append("upsert", upsert)
            }])
        }, .write)
        let outcome = try written(reply)
        return (outcome, reply["n"]?.int ?? 0)
    }

    /// Deletes at most one document matching `filter`.
    func deleteOne(_ collection: String, filter: BSONDocument) throws(MongoFailure) {
        let reply = try run(BSONDocument {
            $0.append("delete", collection)
            $0.append("deletes", array: [BSONDocument {
                $0.append("q", filter)
                $0.append("limit", int32: 1)
            }])
        }, .write)
        _ = try written(reply)
    }

    /// `findAndModify` with `new: true, upsert: true`: the document after `update`.
    func findAndModify(_ collection: String, filter: BSONDocument, update: BSONDocument) throws(MongoFailure) -> BSONFields? {
        let reply = try run(BSONDocument {
            $0.append("findAndModify", collection)
            $0.append("query", filter)
            $0.append("update", update)
            $0.append("new", true)
            $0.append("upsert", true)
        }, .readWrite)
        return reply["value"]?.document
    }

    /// The documents matching `filter` in `sort` order, batch after batch (getMore), while
    /// `each` returns true; the cursor is killed when `each` stops early.
    func find(_ collection: String, filter: BSONDocument, sort: BSONDocument? = nil, projection: BSONDocument? = nil,
              limit: Int? = nil, batchSize: Int = 101, _ each: (BSONFields) throws -> Bool) throws {
        var reply = try run(BSONDocument {
            $0.append("find", collection)
            $0.append("filter", filter)
            if let sort { $0.append("sort", sort) }
            if let projection { $0.append("projection", projection) }
            if let limit { $0.append("limit", Int64(limit)) }
            $0.append("batchSize", Int64(batchSize))
        }, .read)
        var first = true
        while true {
            guard let cursor = reply["cursor"]?.document else {
                throw MongoFailure(kind: .other, message: "a find reply without a cursor")
            }
            let batch = cursor[first ? "firstBatch" : "nextBatch"]?.array ?? []
            first = false
            let id = cursor["id"]?.int ?? 0
            for element in batch {
                guard let document = element.document else { continue }
                if try !each(document) {
                    if id != 0 {
                        _ = try? run(BSONDocument {
                            $0.append("killCursors", collection)
                            $0.appendCursorIDs("cursors", [id])
                        }, .read)
                    }
                    return
                }
            }
            guard id != 0 else { return }
            reply = try run(BSONDocument {
                $0.append("getMore", id)
                $0.append("collection", collection)
                $0.append("batchSize", Int64(batchSize))
            }, .read)
        }
    }

    /// The first document matching `filter` (in `sort` order).
    func findOne(_ collection: String, filter: BSONDocument, sort: BSONDocument? = nil,
                 projection: BSONDocument? = nil) throws -> BSONFields? {
        var found: BSONFields?
        try find(collection, filter: filter, sort: sort, projection: projection, limit: 1, batchSize: 1) {
            found = $0
            return false
        }
        return found
    }
}

extension BSONDocument {
    /// An array of int64 cursor ids (killCursors).
    mutating func appendCursorIDs(_ name: String, _ ids: [Int64]) {
        var list = BSONDocument()
        for (index, id) in ids.enumerated() { list.append(String(index), id) }
        append(name, list: list)
    }
}
