-- Four-eyes rules the database keeps itself, under paydesk's own checks, so
-- no server (an old binary, a bug, a hand-written UPDATE) can break them:
-- the approver of a request that moves money is never its maker (by name
-- or by key; a maker may only withdraw their own, which is a rejection),
-- a request only moves forward through its life, and one past its expiry
-- (by the database's clock) is not approved.
ALTER TABLE paydesk_approvals
    ADD COLUMN maker        text NOT NULL DEFAULT '',
    ADD COLUMN maker_key    text NOT NULL DEFAULT '',
    ADD COLUMN approver     text NOT NULL DEFAULT '',
    ADD COLUMN approver_key text NOT NULL DEFAULT '',
    ADD COLUMN expires_at   timestamptz;
ALTER TABLE paydesk_approvals ADD CONSTRAINT paydesk_approvals_four_eyes
    CHECK (approver = '' OR state = 'rejected' OR (approver <> maker AND approver_key <> maker_key));
-- A request that moves money names its approver by name and by key (an
-- empty key would differ from the maker's and pass as a second person).
ALTER TABLE paydesk_approvals ADD CONSTRAINT paydesk_approvals_named_approver
    CHECK (state NOT IN ('approved', 'sent', 'finished') OR (btrim(approver) <> '' AND btrim(approver_key) <> ''));
ALTER TABLE paydesk_approvals ADD CONSTRAINT paydesk_approvals_state
    CHECK (state IN ('requested', 'approved', 'rejected', 'expired', 'sent', 'finished'));

-- requested -> approved | rejected | expired; approved -> sent;
-- sent -> sent (a resumed send) | finished; finished -> finished (an
-- unknown outcome settled later). Rejected and expired are final.
CREATE FUNCTION paydesk_approvals_move() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ((OLD.state = 'requested' AND NEW.state IN ('approved', 'rejected', 'expired'))
         OR (OLD.state = 'approved' AND NEW.state = 'sent')
         OR (OLD.state = 'sent' AND NEW.state IN ('sent', 'finished'))
         OR (OLD.state = 'finished' AND NEW.state = 'finished')) THEN
        RAISE EXCEPTION 'paydesk_approvals: % cannot become %', OLD.state, NEW.state
            USING ERRCODE = 'check_violation';
    END IF;
    -- The database's clock is the one every server shares: a request past
    -- its expiry there is not approved, whatever a server's clock says.
    IF OLD.state = 'requested' AND NEW.state = 'approved' AND now() >= OLD.expires_at THEN
        RAISE EXCEPTION 'paydesk_approvals: request expired at %', OLD.expires_at
            USING ERRCODE = 'check_violation', CONSTRAINT = 'paydesk_approvals_expired';
    END IF;
    IF NEW.maker <> OLD.maker OR NEW.maker_key <> OLD.maker_key OR NEW.expires_at IS DISTINCT FROM OLD.expires_at THEN
        RAISE EXCEPTION 'paydesk_approvals: the maker and expiry of a request never change'
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER paydesk_approvals_move BEFORE UPDATE ON paydesk_approvals
    FOR EACH ROW EXECUTE FUNCTION paydesk_approvals_move();
