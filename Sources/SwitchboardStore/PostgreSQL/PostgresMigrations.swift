/// The PostgreSQL schema, as numbered migrations applied in order at start (under an advisory lock, so
/// that nodes starting together migrate once) and recorded in `schema_migrations`.
///
/// The tables mirror the SQLite schema, so that the two backends answer alike; what differs is what
/// PostgreSQL does better: identity columns, a statement-level outbox trigger that matches a whole
/// group commit's events against the endpoints in one join, and row locks on `channels` that order
/// appends from several nodes.
enum PostgresMigrations {
    /// `(version, SQL)` pairs, ascending.
    static let all: [(version: Int, sql: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE events (
                    channel TEXT NOT NULL,
                    "offset" BIGINT NOT NULL,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    time_ms BIGINT NOT NULL,
                    data TEXT NOT NULL,
                    PRIMARY KEY (channel, "offset")
                )
                """,
                // Idempotency across nodes: two nodes storing the same key at once cannot both commit.
                "CREATE UNIQUE INDEX events_id ON events (id)",
                "CREATE INDEX events_time ON events (time_ms)",
                // One row per channel: the row lock taken by an append orders the appends of every node,
                // so offsets are assigned, and become visible, in commit order.
                """
                CREATE TABLE channels (
                    name TEXT PRIMARY KEY,
                    head BIGINT NOT NULL,
                    earliest BIGINT NOT NULL DEFAULT 1
                )
                """,
                """
                CREATE TABLE idempotency_keys (
                    id TEXT PRIMARY KEY,
                    channel TEXT NOT NULL,
                    "offset" BIGINT NOT NULL,
                    time_ms BIGINT NOT NULL
                )
                """,
                "CREATE INDEX idempotency_keys_time ON idempotency_keys (time_ms)",
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    digest TEXT NOT NULL UNIQUE,
                    scopes TEXT NOT NULL,
                    created_ms BIGINT NOT NULL,
                    last_used_ms BIGINT
                )
                """,
                """
                CREATE TABLE endpoints (
                    id TEXT PRIMARY KEY,
                    url TEXT NOT NULL,
                    description TEXT NOT NULL DEFAULT '',
                    channels TEXT NOT NULL,
                    types TEXT NOT NULL,
                    rate_limit INTEGER,
                    ordered BOOLEAN NOT NULL DEFAULT FALSE,
                    headers TEXT NOT NULL DEFAULT '[]',
                    secret TEXT NOT NULL,
                    previous_secret TEXT,
                    previous_secret_expires_ms BIGINT,
                    enabled BOOLEAN NOT NULL DEFAULT TRUE,
                    disabled_reason TEXT,
                    failing_since_ms BIGINT,
                    created_ms BIGINT NOT NULL,
                    updated_ms BIGINT NOT NULL
                )
                """,
                """
                CREATE TABLE endpoint_filters (
                    endpoint_id TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
                    kind TEXT NOT NULL,
                    fixed TEXT NOT NULL,
                    is_prefix BOOLEAN NOT NULL
                )
                """,
                "CREATE INDEX endpoint_filters_endpoint ON endpoint_filters (endpoint_id, kind)",
                """
                CREATE TABLE deliveries (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    endpoint_id TEXT NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
                    event_id TEXT NOT NULL,
                    channel TEXT NOT NULL,
                    "offset" BIGINT NOT NULL,
                    type TEXT NOT NULL,
                    event_time_ms BIGINT NOT NULL,
                    data TEXT,
                    status TEXT NOT NULL DEFAULT 'pending',
                    attempts INTEGER NOT NULL DEFAULT 0,
                    round_start INTEGER NOT NULL DEFAULT 0,
                    next_attempt_ms BIGINT,
                    -- The node whose worker holds the delivery, and until when (see PostgresDeliveryQueue).
                    lease_holder TEXT,
                    lease_until_ms BIGINT,
                    created_ms BIGINT NOT NULL,
                    updated_ms BIGINT NOT NULL
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
                    delivery_id BIGINT NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
                    number INTEGER NOT NULL,
                    time_ms BIGINT NOT NULL,
                    status INTEGER,
                    latency_ms BIGINT NOT NULL,
                    error TEXT,
                    response_headers TEXT,
                    response_body TEXT,
                    PRIMARY KEY (delivery_id, number)
                )
                """,
                // The transactional outbox: a delivery row for every enabled endpoint whose filters match
                // each inserted event, in the statement that inserts the events (one join per group
                // commit). `*` does not reach `$` channels unless the pattern itself starts with `$`.
                """
                CREATE FUNCTION events_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO deliveries (endpoint_id, event_id, channel, "offset", type, event_time_ms,
                                            next_attempt_ms, created_ms, updated_ms)
                    SELECT e.id, n.id, n.channel, n."offset", n.type, n.time_ms, n.time_ms, n.time_ms, n.time_ms
                    FROM inserted n
                    JOIN endpoints e ON e.enabled
                    WHERE EXISTS (
                        SELECT 1 FROM endpoint_filters f
                        WHERE f.endpoint_id = e.id AND f.kind = 'channel'
                          AND (left(n.channel, 1) <> '$' OR left(f.fixed, 1) = '$')
                          AND (f.fixed = n.channel OR (f.is_prefix AND starts_with(n.channel, f.fixed))))
                      AND (NOT EXISTS (SELECT 1 FROM endpoint_filters f WHERE f.endpoint_id = e.id AND f.kind = 'type')
                           OR EXISTS (
                             SELECT 1 FROM endpoint_filters f
                             WHERE f.endpoint_id = e.id AND f.kind = 'type'
                               AND (f.fixed = n.type OR (f.is_prefix AND starts_with(n.type, f.fixed)))))
                    ORDER BY n.channel, n."offset", e.id;
                    RETURN NULL;
                END
                $$
                """,
                """
                CREATE TRIGGER events_outbox AFTER INSERT ON events
                REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION events_outbox()
                """,
                """
                CREATE TABLE sources (
                    name TEXT PRIMARY KEY,
                    settings TEXT NOT NULL,
                    created_ms BIGINT NOT NULL,
                    updated_ms BIGINT NOT NULL
                )
                """,
            ]
        ),
        (
            2,
            [
                // Presence across nodes. A node's rows live while its heartbeat does (`expires_ms`, the
                // database's time); `presence_users` holds one row per user present in a channel, locked
                // by every join and leave of that user so that the first join and the last leave are each
                // decided once; `presence_journal` is the outbox of `presence.join` / `presence.leave`
                // events, written in the same transaction and published to the log by one node at a time.
                """
                CREATE TABLE presence_nodes (
                    node TEXT PRIMARY KEY,
                    expires_ms BIGINT NOT NULL
                )
                """,
                "CREATE SEQUENCE presence_epochs",
                """
                CREATE TABLE presence_users (
                    channel TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    epoch BIGINT NOT NULL,
                    member TEXT NOT NULL,
                    PRIMARY KEY (channel, user_id)
                )
                """,
                "CREATE INDEX presence_users_order ON presence_users (channel, epoch)",
                """
                CREATE TABLE presence_members (
                    channel TEXT NOT NULL,
                    client TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    node TEXT NOT NULL,
                    member TEXT NOT NULL,
                    joined BIGINT GENERATED ALWAYS AS IDENTITY,
                    PRIMARY KEY (channel, client)
                )
                """,
                "CREATE INDEX presence_members_user ON presence_members (channel, user_id)",
                "CREATE INDEX presence_members_node ON presence_members (node)",
                """
                CREATE TABLE presence_journal (
                    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    channel TEXT NOT NULL,
                    type TEXT NOT NULL,
                    member TEXT NOT NULL,
                    event_id TEXT NOT NULL
                )
                """,
                // A user's first connection in a channel makes its row (a new epoch) and journals the join;
                // a later one only adds its connection. The row lock orders a join against a leave of the
                // same user on another node: the loop retries when the row it waited for was deleted.
                """
                CREATE FUNCTION presence_join(p_channel TEXT, p_client TEXT, p_user TEXT, p_node TEXT, p_member TEXT)
                RETURNS void LANGUAGE plpgsql AS $$
                DECLARE
                    v_epoch BIGINT;
                BEGIN
                    LOOP
                        PERFORM 1 FROM presence_users WHERE channel = p_channel AND user_id = p_user FOR UPDATE;
                        IF FOUND THEN
                            v_epoch := NULL;
                            EXIT;
                        END IF;
                        INSERT INTO presence_users (channel, user_id, epoch, member)
                        VALUES (p_channel, p_user, nextval('presence_epochs'), p_member)
                        ON CONFLICT DO NOTHING
                        RETURNING epoch INTO v_epoch;
                        EXIT WHEN v_epoch IS NOT NULL;
                    END LOOP;
                    INSERT INTO presence_members (channel, client, user_id, node, member)
                    VALUES (p_channel, p_client, p_user, p_node, p_member)
                    ON CONFLICT (channel, client) DO NOTHING;
                    IF v_epoch IS NOT NULL THEN
                        INSERT INTO presence_journal (channel, type, member, event_id)
                        VALUES (p_channel, 'presence.join', p_member, 'evp_join_' || v_epoch);
                    END IF;
                END
                $$
                """,
                // Removes a connection; when it was its user's last in the channel, the user's row goes and
                // the leave is journaled, under the epoch of the join it ends.
                """
                CREATE FUNCTION presence_leave(p_channel TEXT, p_client TEXT)
                RETURNS void LANGUAGE plpgsql AS $$
                DECLARE
                    v_user TEXT;
                    v_member TEXT;
                    v_epoch BIGINT;
                BEGIN
                    SELECT user_id INTO v_user FROM presence_members WHERE channel = p_channel AND client = p_client;
                    IF NOT FOUND THEN
                        RETURN;
                    END IF;
                    SELECT epoch INTO v_epoch FROM presence_users
                    WHERE channel = p_channel AND user_id = v_user FOR UPDATE;
                    DELETE FROM presence_members WHERE channel = p_channel AND client = p_client
                    RETURNING member INTO v_member;
                    IF NOT FOUND OR v_epoch IS NULL THEN
                        RETURN;
                    END IF;
                    IF NOT EXISTS (SELECT 1 FROM presence_members WHERE channel = p_channel AND user_id = v_user) THEN
                        DELETE FROM presence_users WHERE channel = p_channel AND user_id = v_user;
                        INSERT INTO presence_journal (channel, type, member, event_id)
                        VALUES (p_channel, 'presence.leave', v_member, 'evp_leave_' || v_epoch);
                    ELSE
                        -- The user stays, shown with its earliest remaining connection.
                        UPDATE presence_users SET member = (
                            SELECT member FROM presence_members
                            WHERE channel = p_channel AND user_id = v_user ORDER BY joined LIMIT 1)
                        WHERE channel = p_channel AND user_id = v_user;
                    END IF;
                END
                $$
                """,
            ]
        ),
        (
            3,
            [
                // Where each event came from (`EventOrigin.storedText`; NULL for events stored before),
                // and the deliveries of one event, for the console's story of an event.
                "ALTER TABLE events ADD COLUMN origin text",
                "CREATE INDEX deliveries_event ON deliveries (event_id)",
            ]
        ),
    ]
}
