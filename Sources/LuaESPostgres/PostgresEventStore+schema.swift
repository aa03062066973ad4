import Foundation
import LuaESStore
import PostgresNIO

extension PostgresEventStore {
    /// The newest schema this build reads and writes (the row of `schema_version`).
    static let schemaVersion = 5

    /// `migrations(in: schema)[n]` brings a schema (quoted, `"esrun"`) from version n to
    /// n + 1. Each runs in the transaction that also records the new version: all or
    /// nothing. A migration never changes once released: a database made by an older build
    /// upgrades in place by running the ones after its version.
    static func migrations(in schema: String) -> [[String]] {
        let (events, snapshots) = (schema + ".events", schema + ".snapshots")
        let (projectionNames, projections, views) = (schema + ".projection_names", schema + ".projections", schema + ".views")
        return [
            // 0 -> 1. `position` comes from an identity sequence; `xid` is the top-level
            // transaction id of the append (`pg_current_xact_id()`), which the feed's
            // fence compares with the reader's snapshot (see `+append`). data, meta and
            // state are UTF-8 bytes (bytea), not text: text cannot hold a NUL character and
            // the store gives back exactly what it was given (`convert_from(data, 'UTF8')`
            // reads them in psql).
            [
                """
                CREATE TABLE \(events) (
                    position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    aggregate   text    NOT NULL,
                    "key"       text    NOT NULL,
                    version     bigint  NOT NULL,
                    type        text    NOT NULL,
                    schema      integer NOT NULL,
                    data        bytea   NOT NULL,
                    meta        bytea   NOT NULL,
                    recorded_at bigint  NOT NULL,
                    command_id  text,
                    xid         xid8    NOT NULL DEFAULT pg_current_xact_id(),
                    UNIQUE (aggregate, "key", version)
                )
                """,
                "CREATE INDEX ON \(events) (command_id) WHERE command_id IS NOT NULL",
                """
                CREATE TABLE \(snapshots) (
                    aggregate   text   NOT NULL,
                    "key"       text   NOT NULL,
                    version     bigint NOT NULL,
                    state       bytea  NOT NULL,
                    fingerprint text   NOT NULL,
                    PRIMARY KEY (aggregate, "key")
                )
                """,
            ],
            // 1 -> 2: projections (ProjectionStore), the columns of the SQLite store's tables.
            // `projection_names` keeps the highest generation number each projection had, so
            // numbers are never reused after a drop, and which runner leases the projection until
            // when (the database's clock, so nodes' clocks need not agree); its row is also the lock that orders the
            // changes of which generation is active (see `+projections`). Names are text in
            // the "C" collation, so ORDER BY compares UTF-8 bytes as SQLite does, whatever the
            // database's locale. A view key is UTF-8 bytes (bytea): bytea compares bytes, so
            // keys sort as in SQLite and in memory, and a key may hold a NUL character, which
            // text cannot (`convert_from("key", 'UTF8')` reads it in psql). Documents are
            // bytea for the same reason as events' data.
            [
                """
                CREATE TABLE \(projectionNames) (
                    name        text COLLATE "C" PRIMARY KEY,
                    highest     bigint  NOT NULL,
                    lease_owner text,
                    lease_until timestamptz NOT NULL DEFAULT '-infinity'
                )
                """,
                """
                CREATE TABLE \(projections) (
                    name        text COLLATE "C" NOT NULL,
                    generation  bigint  NOT NULL,
                    fingerprint text    NOT NULL,
                    position    bigint  NOT NULL,
                    active      boolean NOT NULL,
                    failure     text,
                    PRIMARY KEY (name, generation)
                )
                """,
                """
                CREATE TABLE \(views) (
                    projection  text COLLATE "C" NOT NULL,
                    generation  bigint  NOT NULL,
                    "key"       bytea   NOT NULL,
                    document    bytea   NOT NULL,
                    PRIMARY KEY (projection, generation, "key")
                )
                """,
            ],
            // 2 -> 3: appends in one round trip, the procedure `append_events`. Its text was not
            // kept: every upgrade goes on to 5, which drops it and installs the current procedure
            // (`+appendProcedure`), so nothing here needs it.
            [],
            // 3 -> 4: an idempotency key commits once, across nodes: `commands` holds each command
            // id with the position of its first event, and the procedure inserts into it in the
            // batch's subtransaction. Keys committed before the upgrade are carried over (the
            // first commit of a key, should an older build have committed one twice).
            [
                "CREATE TABLE \(schema).commands (command_id text PRIMARY KEY, position bigint NOT NULL)",
                """
                INSERT INTO \(schema).commands (command_id, position)
                SELECT DISTINCT ON (command_id) command_id, position FROM \(events)
                WHERE command_id IS NOT NULL ORDER BY command_id, position
                """,
            ],
            // 4 -> 5: compact events, in Swift (`+compactSchema`, `upgradeToCompactEvents`).
            [],
        ]
    }

    /// Creates or upgrades the schema on a connection of its own, made outside the pool so
    /// that a server that is down fails at once with the network's reason.
    /// - Throws: `StoreError.invalid` for a schema of a newer esrun; `StoreError.io`.
    func prepareSchema() throws {
        let schema = configuration.schema
        let versions = schemaVersionTable
        let lockKey = Self.lockKey("esrun.schema." + schema)
        let logger = self.logger
        let direct = try directConfiguration()
        let store = self
        // an upgrade rewrites every event (4 -> 5): its time grows with the table
        try Self.blocking(timeout: Self.schemaUpgradeTimeout) {
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(configuration: direct, id: 0, logger: logger)
            } catch {
                throw Self.connectFailure(error, to: store.configuration, while: "")
            }
            do {
                try await Self.inTransaction(connection, TransactionProgress(), logger: logger) {
                    // Two nodes starting at once: the second waits here, then finds the tables made.
                    try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger)
                    try await connection.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \"\(schema)\""), logger: logger)
                    try await connection.query(PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(versions) (version integer NOT NULL)"), logger: logger)
                    var version = 0
                    for try await (stored) in try await connection.query(PostgresQuery(unsafeSQL: "SELECT max(version) FROM \(versions)"), logger: logger)
                        .decode(Int?.self) {
                        version = stored ?? 0
                    }
                    guard version <= Self.schemaVersion else {
                        throw StoreError.invalid("PostgreSQL schema \"\(schema)\" at \(store.configuration.address) was written by a newer esrun "
                            + "(schema version \(version); this build understands up to \(Self.schemaVersion)): upgrade esrun to use it")
                    }
                    if version == 0 { try await Self.checkEmpty(schema, on: connection, logger: logger) }
                    let migrations = Self.migrations(in: "\"\(schema)\"")
                    guard version < Self.schemaVersion else { return }
                    while version < Self.schemaVersion {
                        for statement in migrations[version] {
                            try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        if version == 4 {
                            try await Self.upgradeToCompactEvents(in: "\"\(schema)\"", on: connection, logger: logger)
                        }
                        version += 1
                    }
                    try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(versions)"), logger: logger)
                    try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO \(versions) (version) VALUES ($1)",
                                                             binds: Self.bindings(version)), logger: logger)
                }
                try await connection.close()
            } catch {
                try? await connection.close()  // the schema error is the one to report
                if let error = error as? StoreError { throw error }
                throw await store.storeError(error, while: "preparing schema \"\(schema)\"")
            }
        }
    }

    /// How long opening waits for the schema to be made or upgraded.
    static let schemaUpgradeTimeout: TimeInterval = 24 * 3600

    /// Drops the store's schema with everything in it (the bench's throwaway schemas).
    /// The store stays open but has no tables: close it next.
    public func dropSchema() throws {
        let (schema, logger) = (configuration.schema, self.logger)
        try withConnection("dropping schema \"\(schema)\"", retry: .always) { connection, _ -> Void in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"), logger: logger)
        }
    }

    /// A schema without a version row must not hold esrun's table names already (tables
    /// of another program, or a half-made schema from before the version table).
    private static func checkEmpty(_ schema: String, on connection: PostgresConnection, logger: Logger) async throws {
        let rows = try await connection.query(
            """
            SELECT count(*) FROM pg_tables WHERE schemaname = \(schema)
            AND tablename IN ('events', 'snapshots', 'projection_names', 'projections', 'views', 'commands', 'templates',
                              'compact_events')
            """,
            logger: logger)
        for try await count in rows.decode(Int64.self) where count > 0 {
            throw StoreError.invalid("PostgreSQL schema \"\(schema)\" already has a table named like one of esrun's (events, "
                + "snapshots, projection_names, projections, views, commands, templates) that esrun did not make (no schema_version row): "
                + "choose another schema with ?schema=NAME")
        }
    }

    /// Bindings of one value.
    static func bindings(_ value: Int) -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(value)
        return bindings
    }
}
