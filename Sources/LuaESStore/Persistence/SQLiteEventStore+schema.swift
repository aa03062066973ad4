import CSQLite

extension SQLiteEventStore {
    /// `PRAGMA application_id` of every esrun database: "ESRN" in ASCII.
    static let applicationID: Int64 = 0x4553_524E

    /// The newest schema this build reads and writes (`PRAGMA user_version`).
    static let schemaVersion: Int64 = 3

    /// `migrations[n]` brings a database from `user_version` n to n + 1 (2 to 3 is
    /// `upgradeToCompactEvents`, in Swift). Each runs in the transaction that also sets the new
    /// user_version, so it happens all or not at all.
    static let migrations: [String] = [
        // 0 -> 1. `position` is the rowid: SQLite gives a new row max(rowid) + 1, and
        // events are never deleted, so positions strictly increase. They are taken
        // inside the write transaction, which holds SQLite's single write lock from
        // BEGIN IMMEDIATE to COMMIT: transactions commit in the order they take their
        // positions, every reader sees a prefix of that order, and so a reader never
        // skips a committed event (a rolled-back position was never visible).
        // No AUTOINCREMENT and no per-stream version table: each would add a page
        // write to every commit; a stream's version is max(version) on the unique index.
        """
        CREATE TABLE events (
            position    INTEGER PRIMARY KEY,
            aggregate   TEXT    NOT NULL,
            "key"       TEXT    NOT NULL,
            version     INTEGER NOT NULL,
            type        TEXT    NOT NULL,
            schema      INTEGER NOT NULL,
            data        TEXT    NOT NULL,
            meta        TEXT    NOT NULL,
            recorded_at INTEGER NOT NULL,
            command_id  TEXT,
            UNIQUE (aggregate, "key", version)
        );
        CREATE INDEX events_command ON events (command_id) WHERE command_id IS NOT NULL;
        CREATE TABLE snapshots (
            aggregate   TEXT    NOT NULL,
            "key"       TEXT    NOT NULL,
            version     INTEGER NOT NULL,
            state       TEXT    NOT NULL,
            fingerprint TEXT    NOT NULL,
            PRIMARY KEY (aggregate, "key")
        );
        """,
        // 1 -> 2: projections (ProjectionStore). `projection_names` keeps the highest
        // generation number each projection had, so numbers are never reused after a drop,
        // and which runner leases the projection until when (milliseconds since the epoch).
        """
        CREATE TABLE projection_names (
            name        TEXT    PRIMARY KEY,
            highest     INTEGER NOT NULL,
            lease_owner TEXT,
            lease_until INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE projections (
            name        TEXT    NOT NULL,
            generation  INTEGER NOT NULL,
            fingerprint TEXT    NOT NULL,
            position    INTEGER NOT NULL,
            active      INTEGER NOT NULL,
            failure     TEXT,
            PRIMARY KEY (name, generation)
        );
        CREATE TABLE views (
            projection  TEXT    NOT NULL,
            generation  INTEGER NOT NULL,
            "key"       TEXT    NOT NULL,
            document    TEXT    NOT NULL,
            PRIMARY KEY (projection, generation, "key")
        ) WITHOUT ROWID;
        """,
    ]

    /// Settings of the writer connection.
    static func writerPragmas(_ durability: Durability) -> String {
        let synchronous = durability == .full ? "FULL" : "NORMAL"
        // journal_size_limit: after a big import the WAL file is truncated back to 64 MiB.
        // Checkpoints run on SQLiteCheckpointer's thread (its WAL hook replaces autocheckpoint).
        // A small cache: every commit truncates the writer's page cache (pager_end_transaction),
        // walking a hash table as large as the cache; with 16 MiB that walk was 8.7% of
        // `esrun serve` under wrk, with 2 MiB it no longer shows. Readers keep the large cache.
        return "PRAGMA synchronous = \(synchronous); PRAGMA journal_size_limit = 67108864; "
            + "PRAGMA cache_size = -2048;"
    }

    /// Settings of reader connections: a larger page cache, and the file mapped into
    /// memory so that long reads copy less.
    static let readerPragmas = "PRAGMA cache_size = -16384; PRAGMA mmap_size = 268435456;"

    /// Checks that `connection`'s file is an esrun database this build understands, and
    /// unless `readOnly`, switches it to WAL and creates or migrates its schema.
    static func prepareSchema(on connection: SQLiteConnection, readOnly: Bool) throws {
        var version = try inspect(connection)
        if readOnly {
            guard version == schemaVersion else {
                throw StoreError.invalid("\(connection.path) has no esrun schema version \(schemaVersion) yet "
                    + "(it has \(version)); open it once without read-only to create or upgrade it")
            }
            return
        }
        if version == 0 {
            // Small pages: a command's commit writes one table leaf and one index leaf to
            // the WAL, so 1 KiB pages write a quarter of the bytes of 4 KiB ones (measured:
            // ~35% more single-event commits per second; long reads were not slower).
            // Only a new file can take it, before WAL mode.
            try connection.execute("PRAGMA page_size = 1024")
        }
        try enableWAL(on: connection)
        guard version < schemaVersion else { return }
        try connection.execute("BEGIN IMMEDIATE")
        do {
            // Looked at again under the write lock: another process may have just created it.
            version = try inspect(connection)
            while version < schemaVersion {
                if version == 2 {
                    try upgradeToCompactEvents(on: connection)
                } else {
                    try connection.execute(migrations[Int(version)])
                }
                version += 1
            }
            try connection.execute("PRAGMA application_id = \(applicationID); PRAGMA user_version = \(version);")
            try connection.execute("COMMIT")
            connection.interned.commitPending()
        } catch {
            connection.interned.forgetPending()
            if !connection.isAutocommit { try connection.execute("ROLLBACK") }
            throw error
        }
        // An upgrade that rewrote the events leaves the old pages free: give them back.
        let free = try connection.integer("PRAGMA freelist_count")
        if free > 1024, free * 4 > (try connection.integer("PRAGMA page_count")) { try connection.execute("VACUUM") }
    }

    /// The schema version of an esrun database, 0 for an empty file.
    /// - Throws: `StoreError.invalid` when the file is something else.
    private static func inspect(_ connection: SQLiteConnection) throws -> Int64 {
        let path = connection.path
        // The first read of the file: a file that is not SQLite fails here with SQLITE_NOTADB.
        let application = try connection.integer("PRAGMA application_id")
        let version = try connection.integer("PRAGMA user_version")
        if application == applicationID {
            guard version <= schemaVersion else {
                throw StoreError.invalid("\(path) was written by a newer esrun (schema version \(version); "
                    + "this build understands up to \(schemaVersion)): upgrade esrun to open it")
            }
            return version
        }
        guard application == 0 else {
            throw StoreError.invalid("\(path) is not an esrun database: it is an SQLite file of another "
                + "application (application_id \(application))")
        }
        let objects = try connection.integer("SELECT count(*) FROM sqlite_master")
        guard objects == 0, version == 0 else {
            throw StoreError.invalid("\(path) is not an esrun database: it is an SQLite file with "
                + "\(objects) tables or indexes of its own (user_version \(version)); choose another file")
        }
        return 0
    }

    private static func enableWAL(on connection: SQLiteConnection) throws {
        let mode = try connection.withStatement("PRAGMA journal_mode = WAL") { statement in
            try statement.step() ? statement.string(at: 0) : ""
        }
        guard mode.lowercased() == "wal" else {
            throw StoreError.io("\(connection.path): could not switch to WAL mode (journal mode is \"\(mode)\"); "
                + "use a local file system that supports shared memory")
        }
    }
}
