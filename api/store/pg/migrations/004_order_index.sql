-- The order index shared by every host (api/index): one row per indexed
-- order holding exactly what the in-memory index holds (no metadata values),
-- and the days fully indexed per (provider, account). Search stays in memory
-- on each host; these tables are its persistence and how hosts share it.
--
-- stamp is a change stamp from one sequence, set by a trigger on every
-- insert and update; hosts pull rows past the last stamp they saw. Pushes
-- take a transaction advisory lock, so stamps commit in order and a pull
-- never skips a row committed late.
CREATE SEQUENCE paydesk_order_index_stamp;

CREATE TABLE paydesk_order_index (
    provider     text NOT NULL,
    account      text NOT NULL,
    order_id     text NOT NULL,
    ref          text NOT NULL DEFAULT '',
    external_id  text NOT NULL DEFAULT '',
    customer_id  text NOT NULL DEFAULT '',
    status       text NOT NULL DEFAULT '',
    currency     text NOT NULL DEFAULT '',  -- '' when the total is not known
    amount_minor bigint NOT NULL DEFAULT 0, -- total in minor units of currency
    last4        text NOT NULL DEFAULT '',
    created_at   timestamptz,               -- NULL when not known
    detailed_day integer NOT NULL DEFAULT 0, -- day (since 1970-01-01 UTC) of the last full read, 0 = list row only
    payment_refs text[] NOT NULL DEFAULT '{}',
    refund_refs  text[] NOT NULL DEFAULT '{}',
    stamp        bigint NOT NULL, -- set by the trigger below
    PRIMARY KEY (provider, account, order_id)
);
CREATE INDEX paydesk_order_index_stamp_idx ON paydesk_order_index (stamp);

CREATE TABLE paydesk_order_index_days (
    provider text NOT NULL,
    account  text NOT NULL,
    day      integer NOT NULL, -- since 1970-01-01 UTC
    stamp    bigint NOT NULL DEFAULT nextval('paydesk_order_index_stamp'),
    PRIMARY KEY (provider, account, day)
);
CREATE INDEX paydesk_order_index_days_stamp_idx ON paydesk_order_index_days (stamp);

CREATE FUNCTION paydesk_order_index_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.stamp := nextval('paydesk_order_index_stamp');
    RETURN NEW;
END $$;
CREATE TRIGGER paydesk_order_index_stamp BEFORE INSERT OR UPDATE ON paydesk_order_index
    FOR EACH ROW EXECUTE FUNCTION paydesk_order_index_stamp();
