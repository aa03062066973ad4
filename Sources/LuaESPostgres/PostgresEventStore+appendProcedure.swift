extension PostgresEventStore {
    /// The procedure that does a whole append (one batch, or a group commit of several) in
    /// one `CALL`, so one round trip; the migration to schema version 5 creates it (earlier
    /// versions had `append_events`, whose arguments meant other things). Why it is ordered
    /// and safe for the feed: the comment at the top of `+append`.
    ///
    /// Per batch: aggregate, key, expected version, number of events. Per event, batch by
    /// batch in order: the arrays of `PostgresEventColumns` (type, schema, data, and the
    /// event's part of its run's metadata; a head's template by the id of its row in `templates`,
    /// which the client looked up before: `TemplateSightings`). `p_pause` (seconds, 0 in production) is the gap test's
    /// window between leaving the ordering section and COMMIT.
    ///
    /// Returns `positions`, one per event (0 for the events of a failed batch), and
    /// `actual`, one per batch: -1 when it was appended, `duplicateCommandMark` when one of its
    /// command ids was committed before (the `commands` table's key: an idempotency key commits
    /// once, across nodes), else the stream's version (a conflict). The mark is a huge version,
    /// not a negative number, so that a caller that knew only conflicts would take it for one, never
    /// for a success. Each batch runs in a block with an
    /// exception handler, a subtransaction: a unique_violation (another node's append took the
    /// version or the command id between our check and our insert; the INSERT waited for it to
    /// commit) undoes that batch alone.
    ///
    /// A procedure, not a function, because it must COMMIT itself: a statement in an
    /// implicit transaction commits at the extended protocol's Sync, after the server has
    /// already queued CommandComplete, and postgres-nio finishes a query at CommandComplete
    /// (an error after it is not reported to the query). Committing inside the CALL puts
    /// the WAL flush before CommandComplete, so a returned append is a committed one.
    /// COMMIT inside a procedure is allowed only for a CALL outside an explicit
    /// transaction block, which is how the store calls it (autocommit).
    static let duplicateCommandMark: Int64 = 1 << 62

    /// The procedure's quoted name in `schema` (quoted).
    static func procedureName(in schema: String) -> String {
        schema + ".append_events_v5"
    }

    static func appendProcedure(in schema: String) -> String {
        let events = schema + ".events"
        return """
            CREATE OR REPLACE PROCEDURE \(procedureName(in: schema))(
                p_aggregates text[], p_keys text[], p_expected bigint[], p_sizes bigint[],
                p_types text[], p_schemas bigint[], p_data bytea[], p_ordinals bigint[], p_kinds bigint[],
                p_meta bytea[], p_ids uuid[], p_templates bigint[], p_requests text[], p_command_ids text[], p_has_command boolean[],
                p_recorded_at bigint, p_lock_key bigint, p_channel text, p_pause double precision,
                INOUT positions bigint[] DEFAULT NULL, INOUT actual bigint[] DEFAULT NULL)
            LANGUAGE plpgsql AS $procedure$
            DECLARE
                v_first integer := 1;
                v_last integer;
                v_inserted bigint[];
                v_current bigint;
                v_written boolean := false;
                v_constraint text;
            BEGIN
                positions := array_fill(0::bigint, ARRAY[cardinality(p_types)]);
                actual := '{}';
                -- Generic plans for this transaction's statements: with the arrays' values known, a custom
                -- plan looks cheaper, so PostgreSQL would plan the INSERT again on every CALL (measured:
                -- 0.5 ms per CALL instead of 0.3). A SET clause on the procedure would forbid its COMMIT.
                PERFORM set_config('plan_cache_mode', 'force_generic_plan', true);
                -- The ordering section: the transaction's xid and every position are taken in it.
                PERFORM pg_advisory_lock(p_lock_key);
                PERFORM pg_current_xact_id();
                FOR b IN 1 .. cardinality(p_aggregates) LOOP
                    v_last := v_first + p_sizes[b] - 1;
                    BEGIN
                        WITH inserted AS (
                            INSERT INTO \(events) AS e
                                (aggregate, "key", version, recorded_at, \(PostgresEventColumns.targetColumns))
                            SELECT p_aggregates[b], p_keys[b], p_expected[b] + u.n, CASE WHEN u.kind >= 2 THEN p_recorded_at END,
                                   \(PostgresEventColumns.selectList)
                            FROM unnest(p_types[v_first:v_last], p_schemas[v_first:v_last], p_data[v_first:v_last],
                                        p_ordinals[v_first:v_last], p_kinds[v_first:v_last], p_meta[v_first:v_last],
                                        p_ids[v_first:v_last], p_templates[v_first:v_last], p_requests[v_first:v_last], p_command_ids[v_first:v_last],
                                        p_has_command[v_first:v_last])
                                 WITH ORDINALITY AS u(\(PostgresEventColumns.unnestColumns), n)
                            WHERE (SELECT coalesce(max(s.version), 0) FROM \(events) AS s
                                   WHERE s.aggregate = p_aggregates[b] AND s."key" = p_keys[b]) = p_expected[b]
                            ORDER BY u.n
                            RETURNING e.position, e.version)
                        SELECT array_agg(i.position ORDER BY i.version) INTO v_inserted FROM inserted AS i;
                        IF v_inserted IS NOT NULL THEN
                            INSERT INTO \(schema).commands (command_id, position)
                            SELECT c.command_id, min(c.position)
                            FROM unnest(p_command_ids[v_first:v_last], p_has_command[v_first:v_last], v_inserted)
                                 AS c(command_id, has_command, position)
                            WHERE c.has_command GROUP BY c.command_id;
                        END IF;
                    EXCEPTION WHEN unique_violation THEN
                        GET STACKED DIAGNOSTICS v_constraint = CONSTRAINT_NAME;
                        v_inserted := NULL;
                    END;
                    IF v_inserted IS NULL AND v_constraint = 'commands_pkey' THEN
                        actual := actual || \(duplicateCommandMark)::bigint;
                        v_constraint := NULL;
                    ELSIF v_inserted IS NULL THEN
                        -- A fresh snapshot: after a unique_violation it holds the other append's commit.
                        SELECT coalesce(max(s.version), 0) INTO v_current FROM \(events) AS s
                        WHERE s.aggregate = p_aggregates[b] AND s."key" = p_keys[b];
                        actual := actual || v_current;
                    ELSE
                        positions[v_first:v_last] := v_inserted;
                        v_written := true;
                        actual := actual || (-1)::bigint;
                    END IF;
                    v_first := v_last + 1;
                END LOOP;
                -- Leave the section before COMMIT, so that commits (WAL flushes) overlap.
                -- A channel means notify at COMMIT (never on a rollback, nor when every batch failed);
                -- this build passes none and notifies after the CALL (`PostgresCommitAnnouncer`).
                PERFORM pg_advisory_unlock(p_lock_key);
                IF v_written AND p_channel <> '' THEN
                    PERFORM pg_notify(p_channel, '');
                END IF;
                IF p_pause > 0 THEN
                    PERFORM pg_sleep(p_pause);
                END IF;
                COMMIT;
            END
            $procedure$
            """
    }
}
