import LuaESStore
import PostgresNIO

// Projections in the events' schema (tables in `+schema`, migration 1 -> 2): generations in
// `projections`, the highest number each projection had in `projection_names`, documents
// in `views`.
//
// A page applies at most once, whatever the number of nodes. It commits as one statement
// (one round trip, one implicit transaction) whose first part moves the checkpoint only
// from where the page started, `UPDATE ... WHERE ... AND position = from`, and whose other
// parts write the views only if that UPDATE matched a row. The UPDATE locks the
// generation's row. A second node committing from the same position waits for that lock;
// once the first commits, PostgreSQL (READ COMMITTED) checks the WHERE again on the row as
// the first left it, which no longer matches: the second writes nothing and gets
// `StoreError.checkpointMoved`. If the first rolls back instead, the second goes ahead.
//
// Which generation is active changes only while the projection's `projection_names` row is
// locked, by a statement of its own at the start of the transaction: the statements after
// it take their snapshot once the lock is held, so they see what the previous holder
// committed, and two activations at once cannot leave two generations active.
extension PostgresEventStore: ProjectionStore {
    public var projections: ProjectionStore? { self }
    /// LISTEN/NOTIFY (PostgresCommitListener.swift).
    public var commitNotifier: CommitNotifying? { self }

    var projectionNamesTable: String { "\"\(configuration.schema)\".projection_names" }
    var projectionsTable: String { "\"\(configuration.schema)\".projections" }
    var viewsTable: String { "\"\(configuration.schema)\".views" }

    public func projectionGenerations(named name: String?) throws -> [ProjectionGeneration] {
        let (projections, logger) = (projectionsTable, self.logger)
        let query: PostgresQuery = if let name {
            """
            SELECT name, generation, fingerprint, position, active, failure FROM \(unescaped: projections)
            WHERE name = \(name) ORDER BY generation
            """
        } else {
            """
            SELECT name, generation, fingerprint, position, active, failure FROM \(unescaped: projections)
            ORDER BY name, generation
            """
        }
        return try withConnection("listing projection generations", retry: .always) { connection, _ in
            var result: [ProjectionGeneration] = []
            for try await (name, generation, fingerprint, position, active, failure) in try await connection.query(query, logger: logger)
                .decode((String, Int64, String, Int64, Bool, String?).self) {
                result.append(ProjectionGeneration(name: name, generation: generation, fingerprint: fingerprint,
                                                   position: position, isActive: active, failure: failure))
            }
            return result
        }
    }

    public func createProjectionGeneration(name: String, fingerprint: String, activate: Bool) throws -> ProjectionGeneration {
        let (names, projections, logger) = (projectionNamesTable, projectionsTable, self.logger)
        // Not run twice: a second run would make a second generation.
        return try withConnection("creating a generation of projection \(name)", retry: .beforeBegin) { connection, progress in
            try await Self.inTransaction(connection, progress, logger: logger) {
                // Numbers the generation, and locks the name's row until COMMIT (see above).
                let numbering: PostgresQuery = """
                    INSERT INTO \(unescaped: names) (name, highest) VALUES (\(name), 1)
                    ON CONFLICT (name) DO UPDATE SET highest = \(unescaped: names).highest + 1 RETURNING highest
                    """
                var number: Int64?
                for try await highest in try await connection.query(numbering, logger: logger).decode(Int64.self) {
                    number = highest
                }
                guard let number else { throw StoreError.io("PostgreSQL gave no generation number for projection \(name)") }
                if activate {
                    try await connection.query("""
                        UPDATE \(unescaped: projections) SET active = false WHERE name = \(name) AND active
                        """, logger: logger)
                }
                try await connection.query("""
                    INSERT INTO \(unescaped: projections) (name, generation, fingerprint, position, active, failure)
                    VALUES (\(name), \(number), \(fingerprint), 0, \(activate), NULL)
                    """, logger: logger)
                return ProjectionGeneration(name: name, generation: number, fingerprint: fingerprint, position: 0,
                                            isActive: activate, failure: nil)
            }
        }
    }

    /// One round trip for a page; four (BEGIN, the name's lock, the page, COMMIT) for the
    /// page that activates its generation, once per generation. A refused page costs one
    /// more, to read where the checkpoint is for the error message.
    public func commitProjection(_ commit: ProjectionCommit) throws {
        let (names, projections, logger) = (projectionNamesTable, projectionsTable, self.logger)
        let page = Self.pageQuery(commit, projections: projections, views: viewsTable)
        // Safe to run again after a lost connection: if the first run did commit, the second
        // finds the checkpoint moved and writes nothing.
        try withConnection("committing projection \(commit.name) generation \(commit.generation)",
                           retry: .always) { connection, progress -> Void in
            guard commit.activate else {
                return try await Self.apply(page, commit, in: projections, on: connection, logger: logger)
            }
            try await Self.inTransaction(connection, progress, logger: logger) {
                try await connection.query("""
                    SELECT 1 FROM \(unescaped: names) WHERE name = \(commit.name) FOR UPDATE
                    """, logger: logger)
                try await Self.apply(page, commit, in: projections, on: connection, logger: logger)
            }
        }
    }

    /// Runs a page's statement.
    /// - Throws: `StoreError.checkpointMoved` when it moved no checkpoint (it wrote nothing then).
    private static func apply(_ page: PostgresQuery, _ commit: ProjectionCommit, in projections: String,
                              on connection: PostgresConnection, logger: Logger) async throws {
        var moved: Int64 = 0
        for try await count in try await connection.query(page, logger: logger).decode(Int64.self) { moved = count }
        guard moved == 0 else { return }
        // A statement of its own, so it sees the commit that moved the checkpoint.
        var position: Int64?
        for try await current in try await connection.query("""
            SELECT position FROM \(unescaped: projections) WHERE name = \(commit.name) AND generation = \(commit.generation)
            """, logger: logger).decode(Int64.self) {
            position = current
        }
        guard let position else {
            throw StoreError.checkpointMoved("projection \(commit.name) has no generation \(commit.generation) any more")
        }
        throw StoreError.checkpointMoved("projection \(commit.name) generation \(commit.generation) is at position "
            + "\(position), not \(commit.from): another runner moved it")
    }

    /// The statement of a page: the checkpoint move, and only if it matched, the puts and
    /// deletes (as arrays, whatever their number) and the activation. Its parts run on one
    /// snapshot and never touch a row twice: each key's last change is the one kept (which
    /// is what applying them in order leaves), and deactivation skips this generation's row.
    /// It returns the number of checkpoints moved, 1 or 0.
    static func pageQuery(_ commit: ProjectionCommit, projections: String, views: String) -> PostgresQuery {
        // Keys compared as bytes, as the table does: Swift's == would take "é" composed and
        // decomposed for one key, and drop a change that SQLite keeps.
        let keys = commit.changes.map { ByteBuffer(string: $0.key) }
        var last: [ByteBuffer: Int] = [:]
        for (index, key) in keys.enumerated() { last[key] = index }
        var puts: [(key: ByteBuffer, document: ByteBuffer)] = []
        var deletes: [ByteBuffer] = []
        for (index, change) in commit.changes.enumerated() where last[keys[index]] == index {
            if let document = change.document {
                puts.append((keys[index], ByteBuffer(string: document)))
            } else {
                deletes.append(keys[index])
            }
        }
        var binds = PostgresBindings()
        binds.append(commit.name)  // $1
        binds.append(commit.generation)  // $2
        binds.append(commit.from)  // $3
        binds.append(commit.to)  // $4
        binds.append(commit.activate)  // $5
        binds.append(puts.map(\.key))  // $6
        binds.append(puts.map(\.document))  // $7
        binds.append(deletes)  // $8
        return PostgresQuery(unsafeSQL: """
            WITH moved AS (
                UPDATE \(projections) SET position = $4, active = active OR $5
                WHERE name = $1 AND generation = $2 AND position = $3
                RETURNING 1
            ), deactivated AS (
                UPDATE \(projections) SET active = false
                WHERE $5 AND name = $1 AND generation <> $2 AND active AND EXISTS (SELECT FROM moved)
            ), put AS (
                INSERT INTO \(views) (projection, generation, "key", document)
                SELECT $1, $2, u."key", u.document FROM unnest($6::bytea[], $7::bytea[]) AS u("key", document)
                WHERE EXISTS (SELECT FROM moved)
                ON CONFLICT (projection, generation, "key") DO UPDATE SET document = excluded.document
            ), deleted AS (
                DELETE FROM \(views)
                WHERE projection = $1 AND generation = $2 AND "key" = ANY ($8::bytea[]) AND EXISTS (SELECT FROM moved)
            )
            SELECT count(*) FROM moved
            """, binds: binds)
    }

    public func setProjectionFailure(name: String, generation: Int64, failure: String?) throws {
        let (projections, logger) = (projectionsTable, self.logger)
        let query: PostgresQuery = """
            UPDATE \(unescaped: projections) SET failure = \(failure) WHERE name = \(name) AND generation = \(generation)
            """
        // Writing the same failure twice leaves the same row: safe to retry.
        try withConnection("recording the failure of projection \(name) generation \(generation)",
                           retry: .always) { connection, _ -> Void in
            try await connection.query(query, logger: logger)
        }
    }

    public func viewDocument(projection name: String, generation: Int64, key: String) throws -> String? {
        let (views, logger) = (viewsTable, self.logger)
        let query: PostgresQuery = """
            SELECT document FROM \(unescaped: views)
            WHERE projection = \(name) AND generation = \(generation) AND "key" = \(ByteBuffer(string: key))
            """
        return try withConnection("reading a document of projection \(name)", retry: .always) { connection, _ in
            for try await document in try await connection.query(query, logger: logger).decode(ByteBuffer.self) {
                return String(buffer: document)
            }
            return nil
        }
    }

    /// One range scan of the primary key: the keys that start with `prefix` are the range
    /// [prefix, prefix with its last byte + 1) in byte order, and "after `after`" is
    /// ">= `after` + NUL", the next byte string; so the limit counts matching keys only.
    public func viewDocuments(projection name: String, generation: Int64, prefix: String, after: String?, limit: Int) throws
        -> [ViewDocument] {
        guard limit > 0 else { return [] }
        let (views, logger) = (viewsTable, self.logger)
        var lower = Array(prefix.utf8)
        if let after {
            let next = Array(after.utf8) + [0]  // the first byte string after `after`
            if !next.lexicographicallyPrecedes(lower) { lower = next }
        }
        let from = ByteBuffer(bytes: lower)
        let query: PostgresQuery = if let end = Self.end(ofKeysStartingWith: Array(prefix.utf8)) {
            """
            SELECT "key", document FROM \(unescaped: views) WHERE projection = \(name) AND generation = \(generation)
            AND "key" >= \(from) AND "key" < \(ByteBuffer(bytes: end)) ORDER BY "key" LIMIT \(Int64(limit))
            """
        } else {
            """
            SELECT "key", document FROM \(unescaped: views) WHERE projection = \(name) AND generation = \(generation)
            AND "key" >= \(from) ORDER BY "key" LIMIT \(Int64(limit))
            """
        }
        return try withConnection("listing documents of projection \(name)", retry: .always) { connection, _ in
            var result: [ViewDocument] = []
            for try await (key, document) in try await connection.query(query, logger: logger).decode((ByteBuffer, ByteBuffer).self) {
                result.append(ViewDocument(key: String(buffer: key), document: String(buffer: document)))
            }
            return result
        }
    }

    /// The first byte string after all those that start with `prefix`, nil when there is
    /// none (an empty prefix). UTF-8 has no 0xFF byte, but the loop does not rely on it.
    static func end(ofKeysStartingWith prefix: [UInt8]) -> [UInt8]? {
        var end = prefix
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return nil
    }

    /// Locks the generation's row first: a page being committed to it (whose UPDATE takes
    /// the same lock) is then either committed, and its documents are among those deleted
    /// here, or still to come, and finds the generation gone. So no document outlives its
    /// generation, even with several nodes dropping and committing at once.
    @discardableResult
    public func dropProjectionGeneration(name: String, generation: Int64, limit: Int) throws -> Int {
        let (projections, views, logger) = (projectionsTable, viewsTable, self.logger)
        let limit = max(limit, 0)
        return try withConnection("dropping projection \(name) generation \(generation)",
                                  retry: .beforeBegin) { connection, progress in
            try await Self.inTransaction(connection, progress, logger: logger) {
                var exists = false
                for try await _ in try await connection.query("""
                    SELECT 1 FROM \(unescaped: projections) WHERE name = \(name) AND generation = \(generation) FOR UPDATE
                    """, logger: logger).decode(Int.self) {
                    exists = true
                }
                guard exists else { return 0 }
                var deleted = 0
                for try await count in try await connection.query("""
                    WITH gone AS (
                        DELETE FROM \(unescaped: views) WHERE ctid = ANY (ARRAY(
                            SELECT ctid FROM \(unescaped: views) WHERE projection = \(name) AND generation = \(generation)
                            LIMIT \(Int64(limit))))
                        RETURNING 1
                    )
                    SELECT count(*) FROM gone
                    """, logger: logger).decode(Int.self) {
                    deleted = count
                }
                if deleted < limit {
                    try await connection.query("""
                        DELETE FROM \(unescaped: projections) WHERE name = \(name) AND generation = \(generation)
                        """, logger: logger)
                }
                return deleted
            }
        }
    }

    /// Leases are timed by the database's clock (`clock_timestamp()`), so nodes need not agree on the time.
    public func leaseProjection(name: String, owner: String, seconds: Double) throws -> Bool {
        let (names, logger) = (projectionNamesTable, self.logger)
        return try withConnection("leasing projection \(name)", retry: .always) { connection, _ in
            var held = false
            for try await _ in try await connection.query("""
                INSERT INTO \(unescaped: names) AS n (name, highest, lease_owner, lease_until)
                VALUES (\(name), 0, \(owner), clock_timestamp() + make_interval(secs => \(seconds)))
                ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
                WHERE n.lease_owner IS NULL OR n.lease_owner = excluded.lease_owner OR n.lease_until < clock_timestamp()
                RETURNING 1
                """, logger: logger).decode(Int.self) {
                held = true
            }
            return held
        }
    }

    public func releaseProjection(name: String, owner: String) throws {
        let (names, logger) = (projectionNamesTable, self.logger)
        try withConnection("releasing projection \(name)", retry: .always) { connection, _ -> Void in
            try await connection.query("""
                UPDATE \(unescaped: names) SET lease_owner = NULL, lease_until = '-infinity'
                WHERE name = \(name) AND lease_owner = \(owner)
                """, logger: logger)
        }
    }

    /// The end of what the global feed shows now: the position of the newest event whose
    /// transaction is older than every open one (the fence of `+append`), 0 when there is
    /// none. Those events are a prefix of the position order, so this is exactly the last
    /// position `events(after:limit:)` would return at this moment, never one it holds back
    /// (a projection would take itself for behind and read pages that come back empty) and
    /// never less than what it shows. When newer events are committed but held back by an
    /// older open transaction, it waits for them the way the feed does (`feedSettleWait`),
    /// so that an event whose append has returned is normally in the head (read your
    /// writes), and an open transaction that never ends costs a wait, not a wrong answer.
    /// Reads only the tail of the primary key: the newest positions, back to the first settled one.
    public func headPosition() throws -> Int64 {
        let (events, logger) = (self.events, self.logger)
        let query: PostgresQuery = """
            SELECT coalesce((SELECT position FROM \(unescaped: events)
                             WHERE xid < (SELECT pg_snapshot_xmin(pg_current_snapshot()))
                             ORDER BY position DESC LIMIT 1), 0),
                   coalesce((SELECT max(position) FROM \(unescaped: events)), 0)
            """
        return try withConnection("reading the head of the feed", retry: .always) { connection, _ in
            let deadline = ContinuousClock.now + Self.feedSettleWait
            var pause: Duration = .microseconds(500)
            while true {
                var (settled, newest): (Int64, Int64) = (0, 0)
                for try await row in try await connection.query(query, logger: logger).decode((Int64, Int64).self) {
                    (settled, newest) = row
                }
                if settled == newest || ContinuousClock.now >= deadline { return settled }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .milliseconds(20))
            }
        }
    }
}
