-- Journal intents: the latest snapshot of each, as the journal wrote it.
CREATE TABLE paydesk_intents (
    id         text PRIMARY KEY,
    provider   text NOT NULL,
    account    text NOT NULL DEFAULT '',
    order_id   text NOT NULL,
    action     text NOT NULL,
    state      text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    body       text NOT NULL
);
CREATE INDEX paydesk_intents_order ON paydesk_intents (provider, account, order_id, created_at);
CREATE INDEX paydesk_intents_open ON paydesk_intents (state) WHERE state NOT IN ('succeeded', 'failed', 'canceled');
-- At most one open money intent per order of one provider account: a second
-- one can never be recorded, so it can never be sent.
CREATE UNIQUE INDEX paydesk_intents_one_open ON paydesk_intents (provider, account, order_id)
    WHERE state NOT IN ('succeeded', 'failed', 'canceled') AND action <> 'update_payment';

-- Who holds an order's lock (the lock itself is an advisory lock).
CREATE TABLE paydesk_lock_holders (
    lock_key text PRIMARY KEY,
    actor    text NOT NULL,
    host     text NOT NULL,
    pid      integer NOT NULL,
    since    timestamptz NOT NULL,
    -- the holding session: a row is believed only while that session
    -- holds an advisory lock (rows of released locks are left behind)
    backend_pid integer NOT NULL
);

-- The audit chain: seq is gapless (assigned under a lock), line is the
-- canonical JSON line whose hash (computed by paydesk) is in hash.
CREATE TABLE paydesk_audit (
    seq  bigint PRIMARY KEY CHECK (seq > 0),
    ts   timestamptz NOT NULL,
    prev text NOT NULL,
    hash text NOT NULL,
    line text NOT NULL
);
CREATE FUNCTION paydesk_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'paydesk_audit is append-only: % refused', TG_OP;
END $$;
CREATE TRIGGER paydesk_audit_no_update_delete BEFORE UPDATE OR DELETE ON paydesk_audit
    FOR EACH ROW EXECUTE FUNCTION paydesk_audit_append_only();
CREATE TRIGGER paydesk_audit_no_truncate BEFORE TRUNCATE ON paydesk_audit
    FOR EACH STATEMENT EXECUTE FUNCTION paydesk_audit_append_only();

CREATE TABLE paydesk_approvals (
    id         text PRIMARY KEY,
    state      text NOT NULL,
    created_at timestamptz NOT NULL,
    body       text NOT NULL
);
CREATE INDEX paydesk_approvals_state ON paydesk_approvals (state, created_at);

-- Notifications, gapless in commit order so a subscriber catches up by seq.
CREATE TABLE paydesk_events (
    seq  bigint PRIMARY KEY,
    ts   timestamptz NOT NULL,
    body text NOT NULL
);
