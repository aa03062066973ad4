import Logging
import LuaESStore

/// Snapshots in the `snapshots` collection of a MongoDB database: one document a stream,
/// `{_id: "LENGTH:AGGREGATEKEY", a, k, v, st, fp}` (the length of the aggregate in UTF-8
/// bytes keeps `a:b`/`c` and `a`/`b:c` apart). The event store keeps its snapshots so;
/// `init(configuration:)` opens one for `--snapshots mongodb://HOST/DATABASE`, beside any event store.
///
/// The fingerprint rule is one conditional upsert, atomic in the server: update the
/// stream's document if its fingerprint differs or its version is not higher, inserting it
/// when there is none. When a newer one of the same code is stored, nothing matches and the
/// upsert's insert breaks the `_id` index (11000): the newer one stays. Two first savers can
/// race the same way; the loser repeats the update without upsert, which now applies the rule
/// to the winner's document.
public final class MongoSnapshotStore: SnapshotStore, @unchecked Sendable {
    // @unchecked: both properties are immutable; `connection` is thread safe.
    let connection: MongoConnection
    /// False when it shares the event store's connection, which closes it.
    private let ownsConnection: Bool

    init(connection: MongoConnection, ownsConnection: Bool) {
        self.connection = connection
        self.ownsConnection = ownsConnection
    }

    /// Prepares the pool; it connects on first use (a snapshot store that is down never fails a command).
    public convenience init(configuration: MongoStoreConfiguration) throws {
        self.init(connection: try MongoConnection(configuration: configuration), ownsConnection: true)
    }

    static func id(_ stream: StreamID) -> String {
        "\(stream.aggregate.utf8.count):\(stream.aggregate)\(stream.key)"
    }

    public func snapshot(of stream: StreamID) throws -> Snapshot? {
        if connection.isClosed { throw StoreError.closed }
        let found: BSONFields?
        do {
            found = try connection.findOne(MongoLayout.snapshots, filter: BSONDocument { $0.append("_id", Self.id(stream)) })
        } catch {
            throw fail(error, while: "reading the snapshot of \(stream)")
        }
        guard let found else { return nil }
        guard let version = found["v"]?.int, let state = found["st"]?.string, let fingerprint = found["fp"]?.string else {
            throw StoreError.io("MongoDB at \(connection.server): the snapshot document of \(stream) is not esrun's")
        }
        return Snapshot(stream: stream, version: version, state: state, fingerprint: fingerprint)
    }

    public func saveSnapshot(_ snapshot: Snapshot) throws {
        if connection.isClosed { throw StoreError.closed }
        let stream = snapshot.stream
        // {$and: [{_id}, {$or}]} and not {_id, $or}: the same filter to MongoDB, but nx-27017
        // 0.8.1 (the test server) drops the _id of the latter and updates another stream's document.
        let filter = BSONDocument {
            $0.append("$and", array: [
                BSONDocument { $0.append("_id", Self.id(stream)) },
                BSONDocument {
                    $0.append("$or", array: [
                        BSONDocument { $0.append("fp", "$ne", snapshot.fingerprint) },
                        BSONDocument { $0.append("v", "$lte", snapshot.version) },
                    ])
                },
            ])
        }
        let update = BSONDocument {
            $0.append("$set", BSONDocument {
                $0.append("a", stream.aggregate)
                $0.append("k", stream.key)
                $0.append("v", snapshot.version)
                $0.append("st", snapshot.state)
                $0.append("fp", snapshot.fingerprint)
            })
        }
        guard update.count + filter.count < MongoLayout.maxDocumentBytes else {
            throw StoreError.invalid("the snapshot of \(stream) is \(update.count / 1024) KB; a MongoDB document holds at most 16 MiB")
        }
        do {
            if try connection.update(MongoLayout.snapshots, filter: filter, update: update, upsert: true).0 == .duplicateKey {
                _ = try connection.update(MongoLayout.snapshots, filter: filter, update: update, upsert: false)
            }
        } catch {
            throw fail(error, while: "saving the snapshot of \(stream)")
        }
    }

    public func close() throws {
        if ownsConnection { connection.close() }
    }

    private func fail(_ error: any Error, while what: String) -> StoreError {
        if connection.isClosed { return .closed }
        if let failure = error as? MongoFailure { return failure.storeError(while: what, server: connection.server) }
        return .io("MongoDB at \(connection.server), \(what): \(error)")
    }
}

extension BSONDocument {
    /// `{name: {op: value}}` with a string value (`{fp: {$ne: "f1"}}`).
    mutating func append(_ name: String, _ op: String, _ value: String) {
        append(name, BSONDocument { $0.append(op, value) })
    }
}
