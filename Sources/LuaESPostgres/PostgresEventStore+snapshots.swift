import LuaESStore
import PostgresNIO

extension PostgresEventStore {
    /// The stored snapshot of `stream`, if any.
    public func snapshot(of stream: StreamID) throws -> Snapshot? {
        let (snapshots, logger) = (self.snapshots, self.logger)
        let query: PostgresQuery = """
            SELECT version, state, fingerprint FROM \(unescaped: snapshots)
            WHERE aggregate = \(stream.aggregate) AND "key" = \(stream.key)
            """
        return try withConnection("reading the snapshot of \(stream)", retry: .always) { connection, _ in
            for try await (version, state, fingerprint) in try await connection.query(query, logger: logger)
                .decode((Int64, ByteBuffer, String).self) {
                return Snapshot(stream: stream, version: version, state: String(buffer: state), fingerprint: fingerprint)
            }
            return nil
        }
    }

    /// Stores `snapshot` unless a snapshot of a higher version with the same fingerprint
    /// is stored already. A snapshot with another fingerprint is replaced. One conditional
    /// upsert, so two nodes writing at once cannot put an older snapshot over a newer one.
    public func saveSnapshot(_ snapshot: Snapshot) throws {
        let (snapshots, logger) = (self.snapshots, self.logger)
        let query: PostgresQuery = """
            INSERT INTO \(unescaped: snapshots) (aggregate, "key", version, state, fingerprint)
            VALUES (\(snapshot.stream.aggregate), \(snapshot.stream.key), \(snapshot.version), \(ByteBuffer(string: snapshot.state)),
                    \(snapshot.fingerprint))
            ON CONFLICT (aggregate, "key") DO UPDATE
            SET version = excluded.version, state = excluded.state, fingerprint = excluded.fingerprint
            WHERE NOT (\(unescaped: snapshots).fingerprint = excluded.fingerprint
                       AND \(unescaped: snapshots).version > excluded.version)
            """
        // Writing the same snapshot twice leaves the same row: safe to retry.
        try withConnection("saving the snapshot of \(snapshot.stream)", retry: .always) { connection, _ -> Void in
            try await connection.query(query, logger: logger)
        }
    }
}
