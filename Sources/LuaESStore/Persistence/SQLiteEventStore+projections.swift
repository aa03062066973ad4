/// Projections in the SQLite file: generations in `projections`, documents in `views`.
/// Writes go through the writer connection, so a page of view changes and its checkpoint
/// share one transaction with nothing else; reads use the reader pool.
extension SQLiteEventStore: ProjectionStore {
    public var projections: ProjectionStore? { self }
    /// Other processes' commits are seen by polling.
    public var commitNotifier: CommitNotifying? { nil }

    static let generationsSQL = """
        SELECT name, generation, fingerprint, position, active, failure FROM projections
        WHERE ?1 IS NULL OR name = ?1 ORDER BY name, generation
        """
    static let nextGenerationSQL = """
        INSERT INTO projection_names (name, highest) VALUES (?1, 1)
        ON CONFLICT (name) DO UPDATE SET highest = highest + 1 RETURNING highest
        """
    static let insertGenerationSQL = """
        INSERT INTO projections (name, generation, fingerprint, position, active, failure) VALUES (?1, ?2, ?3, 0, ?4, NULL)
        """
    static let deactivateSQL = "UPDATE projections SET active = 0 WHERE name = ?1 AND active <> 0"
    static let activateSQL = "UPDATE projections SET active = 1 WHERE name = ?1 AND generation = ?2"
    static let moveCheckpointSQL = "UPDATE projections SET position = ?4 WHERE name = ?1 AND generation = ?2 AND position = ?3"
    static let checkpointSQL = "SELECT position FROM projections WHERE name = ?1 AND generation = ?2"
    static let putViewSQL = """
        INSERT INTO views (projection, generation, "key", document) VALUES (?1, ?2, ?3, ?4)
        ON CONFLICT (projection, generation, "key") DO UPDATE SET document = excluded.document
        """
    static let deleteViewSQL = #"DELETE FROM views WHERE projection = ?1 AND generation = ?2 AND "key" = ?3"#
    static let failureSQL = "UPDATE projections SET failure = ?3 WHERE name = ?1 AND generation = ?2"
    static let viewSQL = #"SELECT document FROM views WHERE projection = ?1 AND generation = ?2 AND "key" = ?3"#
    static let viewsSQL = """
        SELECT "key", document FROM views WHERE projection = ?1 AND generation = ?2 AND "key" >= ?3
        AND (?4 IS NULL OR "key" > ?4) ORDER BY "key" LIMIT ?5
        """
    static let dropViewsSQL = """
        DELETE FROM views WHERE projection = ?1 AND generation = ?2 AND "key" IN
        (SELECT "key" FROM views WHERE projection = ?1 AND generation = ?2 LIMIT ?3)
        """
    static let dropGenerationSQL = "DELETE FROM projections WHERE name = ?1 AND generation = ?2"
    static let headSQL = "SELECT coalesce(max(position), 0) FROM events"
    static let leaseSQL = """
        INSERT INTO projection_names (name, highest, lease_owner, lease_until) VALUES (?1, 0, ?2, ?3)
        ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
        WHERE projection_names.lease_owner IS NULL OR projection_names.lease_owner = excluded.lease_owner
           OR projection_names.lease_until < ?4
        """
    static let releaseSQL = "UPDATE projection_names SET lease_owner = NULL, lease_until = 0 WHERE name = ?1 AND lease_owner = ?2"

    public func projectionGenerations(named name: String?) throws -> [ProjectionGeneration] {
        try withReader { reader in
            try reader.withStatement(Self.generationsSQL) { statement in
                try statement.bind(name, at: 1)
                var out: [ProjectionGeneration] = []
                while try statement.step() {
                    out.append(ProjectionGeneration(
                        name: statement.string(at: 0), generation: statement.int64(at: 1), fingerprint: statement.string(at: 2),
                        position: statement.int64(at: 3), isActive: statement.int64(at: 4) != 0,
                        failure: statement.isNull(at: 5) ? nil : statement.string(at: 5)))
                }
                return out
            }
        }
    }

    public func createProjectionGeneration(name: String, fingerprint: String, activate: Bool) throws -> ProjectionGeneration {
        try withWriter { writer in
            try inTransaction(writer) {
                let number = try writer.withStatement(Self.nextGenerationSQL) { statement in
                    try statement.bind(name, at: 1)
                    guard try statement.step() else { throw StoreError.io("\(path): no generation number for \(name)") }
                    return statement.int64(at: 0)
                }
                if activate { try run(writer, Self.deactivateSQL, name) }
                try writer.withStatement(Self.insertGenerationSQL) { statement in
                    try statement.bind(name, at: 1)
                    try statement.bind(number, at: 2)
                    try statement.bind(fingerprint, at: 3)
                    try statement.bind(activate ? 1 : 0, at: 4)
                    _ = try statement.step()
                }
                return ProjectionGeneration(name: name, generation: number, fingerprint: fingerprint, position: 0,
                                            isActive: activate, failure: nil)
            }
        }
    }

    public func commitProjection(_ commit: ProjectionCommit) throws {
        try withWriter { writer in
            try inTransaction(writer) {
                let moved = try writer.withStatement(Self.moveCheckpointSQL) { statement in
                    try statement.bind(commit.name, at: 1)
                    try statement.bind(commit.generation, at: 2)
                    try statement.bind(commit.from, at: 3)
                    try statement.bind(commit.to, at: 4)
                    _ = try statement.step()
                    return writer.changes
                }
                guard moved == 1 else { throw try checkpointMoved(writer, commit) }
                for change in commit.changes {
                    let sql = change.document == nil ? Self.deleteViewSQL : Self.putViewSQL
                    try writer.withStatement(sql) { statement in
                        try statement.bind(commit.name, at: 1)
                        try statement.bind(commit.generation, at: 2)
                        try statement.bind(change.key, at: 3)
                        if let document = change.document { try statement.bind(document, at: 4) }
                        _ = try statement.step()
                    }
                }
                if commit.activate {
                    try run(writer, Self.deactivateSQL, commit.name)
                    try writer.withStatement(Self.activateSQL) { statement in
                        try statement.bind(commit.name, at: 1)
                        try statement.bind(commit.generation, at: 2)
                        _ = try statement.step()
                    }
                }
            }
        }
    }

    private func checkpointMoved(_ writer: SQLiteConnection, _ commit: ProjectionCommit) throws -> StoreError {
        let position: Int64? = try writer.withStatement(Self.checkpointSQL) { statement in
            try statement.bind(commit.name, at: 1)
            try statement.bind(commit.generation, at: 2)
            return try statement.step() ? statement.int64(at: 0) : nil
        }
        guard let position else {
            return .checkpointMoved("projection \(commit.name) has no generation \(commit.generation) any more")
        }
        return .checkpointMoved("projection \(commit.name) generation \(commit.generation) is at position \(position), "
            + "not \(commit.from): another runner moved it")
    }

    public func setProjectionFailure(name: String, generation: Int64, failure: String?) throws {
        try withWriter { writer in
            try inTransaction(writer) {
                try writer.withStatement(Self.failureSQL) { statement in
                    try statement.bind(name, at: 1)
                    try statement.bind(generation, at: 2)
                    try statement.bind(failure, at: 3)
                    _ = try statement.step()
                }
            }
        }
    }

    public func viewDocument(projection name: String, generation: Int64, key: String) throws -> String? {
        try withReader { reader in
            try reader.withStatement(Self.viewSQL) { statement in
                try statement.bind(name, at: 1)
                try statement.bind(generation, at: 2)
                try statement.bind(key, at: 3)
                return try statement.step() ? statement.string(at: 0) : nil
            }
        }
    }

    public func viewDocuments(projection name: String, generation: Int64, prefix: String, after: String?, limit: Int) throws
        -> [ViewDocument] {
        guard limit > 0 else { return [] }
        return try withReader { reader in
            try reader.withStatement(Self.viewsSQL) { statement in
                try statement.bind(name, at: 1)
                try statement.bind(generation, at: 2)
                try statement.bind(prefix, at: 3)
                try statement.bind(after, at: 4)
                try statement.bind(limit, at: 5)
                var out: [ViewDocument] = []
                // keys >= prefix in byte order: the matching ones come first, then the rest
                while try statement.step() {
                    let key = statement.string(at: 0)
                    guard key.utf8.starts(with: prefix.utf8) else { break }
                    out.append(ViewDocument(key: key, document: statement.string(at: 1)))
                }
                return out
            }
        }
    }

    @discardableResult
    public func dropProjectionGeneration(name: String, generation: Int64, limit: Int) throws -> Int {
        try withWriter { writer in
            try inTransaction(writer) {
                let deleted = try writer.withStatement(Self.dropViewsSQL) { statement in
                    try statement.bind(name, at: 1)
                    try statement.bind(generation, at: 2)
                    try statement.bind(max(limit, 0), at: 3)
                    _ = try statement.step()
                    return writer.changes
                }
                if deleted < limit {
                    try writer.withStatement(Self.dropGenerationSQL) { statement in
                        try statement.bind(name, at: 1)
                        try statement.bind(generation, at: 2)
                        _ = try statement.step()
                    }
                }
                return deleted
            }
        }
    }

    public func headPosition() throws -> Int64 {
        try withReader { try $0.integer(Self.headSQL) }
    }

    public func leaseProjection(name: String, owner: String, seconds: Double) throws -> Bool {
        let now = Self.now()
        return try withWriter { writer in
            try inTransaction(writer) {
                try writer.withStatement(Self.leaseSQL) { statement in
                    try statement.bind(name, at: 1)
                    try statement.bind(owner, at: 2)
                    try statement.bind(now + Int64(seconds * 1000), at: 3)
                    try statement.bind(now, at: 4)
                    _ = try statement.step()
                    return writer.changes == 1
                }
            }
        }
    }

    public func releaseProjection(name: String, owner: String) throws {
        try withWriter { writer in
            try inTransaction(writer) {
                try writer.withStatement(Self.releaseSQL) { statement in
                    try statement.bind(name, at: 1)
                    try statement.bind(owner, at: 2)
                    _ = try statement.step()
                }
            }
        }
    }

    private func run(_ writer: SQLiteConnection, _ sql: String, _ name: String) throws {
        try writer.withStatement(sql) { statement in
            try statement.bind(name, at: 1)
            _ = try statement.step()
        }
    }
}
