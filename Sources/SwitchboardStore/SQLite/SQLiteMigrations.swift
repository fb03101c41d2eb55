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
    ]
}
