/// The schema, as numbered migrations applied in order at start and recorded in `schema_migrations`.
///
/// They are compiled in (not resource files) so that the server stays one self-contained binary.
enum SQLiteMigrations {
    /// `(version, SQL)` pairs, ascending.
    static let all: [(version: Int, sql: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE events (
                    channel TEXT NOT NULL,
                    "offset" INTEGER NOT NULL,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    time_ms INTEGER NOT NULL,
                    data TEXT NOT NULL,
                    PRIMARY KEY (channel, "offset")
                ) WITHOUT ROWID
                """,
                "CREATE UNIQUE INDEX events_id ON events (id)",
                "CREATE INDEX events_time ON events (time_ms)",
                """
                CREATE TABLE channels (
                    name TEXT PRIMARY KEY,
                    head INTEGER NOT NULL,
                    earliest INTEGER NOT NULL DEFAULT 1
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE idempotency_keys (
                    id TEXT PRIMARY KEY,
                    channel TEXT NOT NULL,
                    "offset" INTEGER NOT NULL,
                    time_ms INTEGER NOT NULL
                ) WITHOUT ROWID
                """,
                "CREATE INDEX idempotency_keys_time ON idempotency_keys (time_ms)",
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    digest TEXT NOT NULL UNIQUE,
                    scopes TEXT NOT NULL,
                    created_ms INTEGER NOT NULL,
                    last_used_ms INTEGER
                ) WITHOUT ROWID
                """,
            ]
        ),
        (
            2,
            [
                // Heads and remembered keys follow from the inserted events themselves, so that a group
                // commit is one INSERT statement (one round trip to the database thread) in autocommit.
                "ALTER TABLE events ADD COLUMN keyed INTEGER NOT NULL DEFAULT 0",
                """
                CREATE TRIGGER events_advance_head AFTER INSERT ON events BEGIN
                    INSERT INTO channels (name, head) VALUES (NEW.channel, NEW."offset")
                    ON CONFLICT(name) DO UPDATE SET head = MAX(head, excluded.head);
                END
                """,
                """
                CREATE TRIGGER events_remember_key AFTER INSERT ON events WHEN NEW.keyed = 1 BEGIN
                    INSERT OR REPLACE INTO idempotency_keys (id, channel, "offset", time_ms)
                    VALUES (NEW.id, NEW.channel, NEW."offset", NEW.time_ms);
                END
                """,
            ]
        ),
        (
            3,
            [
                // Webhooks out. Filters are rows so that the outbox trigger can match them in SQL.
                """
                CREATE TABLE endpoints (
                    id TEXT PRIMARY KEY,
                    url TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    channels TEXT NOT NULL,
                    types TEXT NOT NULL,
                    rate_limit INTEGER,
                    ordered INTEGER NOT NULL DEFAULT 0,
                    headers TEXT NOT NULL DEFAULT '[]',
                    secret TEXT NOT NULL,
                    previous_secret TEXT,
                    previous_secret_expires_ms INTEGER,
                    enabled INTEGER NOT NULL DEFAULT 1,
                    disabled_reason TEXT,
                    failing_since_ms INTEGER,
                    created_ms INTEGER NOT NULL,
                    updated_ms INTEGER NOT NULL
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE endpoint_filters (
                    endpoint_id TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    fixed TEXT NOT NULL,
                    is_prefix INTEGER NOT NULL
                )
                """,
                "CREATE INDEX endpoint_filters_endpoint ON endpoint_filters (endpoint_id, kind)",
                // `id` (shown as `dlv_<id>`) also orders deliveries newest first for paging;
                // `next_attempt_ms` is NULL once the delivery succeeded or is dead, so the partial indexes
                // hold only live deliveries. Few indexes: each one is written for every delivery.
                """
                CREATE TABLE deliveries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    endpoint_id TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
                    event_id TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    "offset" INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    event_time_ms INTEGER NOT NULL,
                    data TEXT,
                    status TEXT NOT NULL DEFAULT 'pending',
                    attempts INTEGER NOT NULL DEFAULT 0,
                    round_start INTEGER NOT NULL DEFAULT 0,
                    next_attempt_ms INTEGER,
                    created_ms INTEGER NOT NULL,
                    updated_ms INTEGER NOT NULL
                )
                """,
                "CREATE INDEX deliveries_due ON deliveries (next_attempt_ms) WHERE next_attempt_ms IS NOT NULL",
                """
                CREATE INDEX deliveries_live_position ON deliveries (endpoint_id, channel, "offset")
                WHERE next_attempt_ms IS NOT NULL
                """,
                "CREATE INDEX deliveries_endpoint ON deliveries (endpoint_id, id)",
                """
                CREATE TABLE delivery_attempts (
                    delivery_id INTEGER NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
                    number INTEGER NOT NULL,
                    time_ms INTEGER NOT NULL,
                    status INTEGER,
                    latency_ms INTEGER NOT NULL,
                    error TEXT,
                    response_headers TEXT,
                    response_body TEXT,
                    PRIMARY KEY (delivery_id, number)
                ) WITHOUT ROWID
                """,
                // The transactional outbox: a delivery row for every enabled endpoint whose filters match,
                // in the statement that inserts the event. `*` does not reach `$` channels unless the
                // pattern itself starts with `$` (EndpointFilter.matches).
                """
                CREATE TRIGGER events_outbox AFTER INSERT ON events BEGIN
                    INSERT INTO deliveries (endpoint_id, event_id, channel, "offset", type, event_time_ms,
                                            next_attempt_ms, created_ms, updated_ms)
                    SELECT e.id, NEW.id, NEW.channel, NEW."offset", NEW.type,
                           NEW.time_ms, NEW.time_ms, NEW.time_ms, NEW.time_ms
                    FROM endpoints e
                    WHERE e.enabled = 1
                      AND EXISTS (
                        SELECT 1 FROM endpoint_filters f
                        WHERE f.endpoint_id = e.id AND f.kind = 'channel'
                          AND (substr(NEW.channel, 1, 1) <> '$' OR substr(f.fixed, 1, 1) = '$')
                          AND (f.fixed = NEW.channel
                               OR (f.is_prefix = 1 AND substr(NEW.channel, 1, length(f.fixed)) = f.fixed)))
                      AND (NOT EXISTS (SELECT 1 FROM endpoint_filters f WHERE f.endpoint_id = e.id AND f.kind = 'type')
                           OR EXISTS (
                             SELECT 1 FROM endpoint_filters f
                             WHERE f.endpoint_id = e.id AND f.kind = 'type'
                               AND (f.fixed = NEW.type
                                    OR (f.is_prefix = 1 AND substr(NEW.type, 1, length(f.fixed)) = f.fixed))));
                END
                """,
            ]
        ),
        (
            4,
            [
                // Webhooks in: sources made through the API (those in the config file are not stored).
                // `settings` is the source's stored JSON, secrets included: verification needs them.
                """
                CREATE TABLE sources (
                    name TEXT PRIMARY KEY,
                    settings TEXT NOT NULL,
                    created_ms INTEGER NOT NULL,
                    updated_ms INTEGER NOT NULL
                ) WITHOUT ROWID
                """
            ]
        ),
        (
            5,
            [
                // Where each event came from (`EventOrigin.storedText`; NULL for events stored before),
                // and the deliveries of one event, for the console's story of an event.
                "ALTER TABLE events ADD COLUMN origin TEXT",
                "CREATE INDEX deliveries_event ON deliveries (event_id)",
            ]
        ),
    ]
}
