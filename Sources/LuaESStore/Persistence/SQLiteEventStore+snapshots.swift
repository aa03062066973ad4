extension SQLiteEventStore {
    static let snapshotSQL = #"SELECT version, state, fingerprint FROM snapshots WHERE aggregate = ?1 AND "key" = ?2"#
    /// The upsert keeps the stored row only when it has the same fingerprint and a higher
    /// version; otherwise the new snapshot replaces it.
    static let saveSnapshotSQL = """
        INSERT INTO snapshots (aggregate, "key", version, state, fingerprint) VALUES (?1, ?2, ?3, ?4, ?5)
        ON CONFLICT (aggregate, "key") DO UPDATE
        SET version = excluded.version, state = excluded.state, fingerprint = excluded.fingerprint
        WHERE NOT (snapshots.fingerprint = excluded.fingerprint AND snapshots.version > excluded.version)
        """

    /// The stored snapshot of `stream`, if any.
    public func snapshot(of stream: StreamID) throws -> Snapshot? {
        try withReader { reader in
            try reader.withStatement(Self.snapshotSQL) { statement in
                try statement.bind(stream.aggregate, at: 1)
                try statement.bind(stream.key, at: 2)
                guard try statement.step() else { return nil }
                return Snapshot(stream: stream, version: statement.int64(at: 0),
                                state: statement.string(at: 1), fingerprint: statement.string(at: 2))
            }
        }
    }

    /// Stores `snapshot` unless a snapshot of a higher version with the same fingerprint
    /// is stored already. A snapshot with another fingerprint is replaced.
    public func saveSnapshot(_ snapshot: Snapshot) throws {
        try withWriter { writer in
            try inTransaction(writer) {
                try writer.withStatement(Self.saveSnapshotSQL) { statement in
                    try statement.bind(snapshot.stream.aggregate, at: 1)
                    try statement.bind(snapshot.stream.key, at: 2)
                    try statement.bind(snapshot.version, at: 3)
                    try statement.bind(snapshot.state, at: 4)
                    try statement.bind(snapshot.fingerprint, at: 5)
                    _ = try statement.step()
                }
            }
        }
    }
}
