-- The approvals queue reads every open request and only the newest closed
-- ones (by their last change), so its query does not grow with history:
-- the last change gets a column of its own, and each half of the read an
-- index it can walk in order (the closed half stops at its LIMIT). Ids
-- sort bytewise (COLLATE "C"), as paydesk's file stores sort them.
ALTER TABLE paydesk_approvals ADD COLUMN updated_at timestamptz;
-- The life-cycle trigger refuses an update that does not move a request
-- forward; filling the new column moves nothing, so it is off for this
-- one statement (inside the migration's transaction).
ALTER TABLE paydesk_approvals DISABLE TRIGGER paydesk_approvals_move;
UPDATE paydesk_approvals SET updated_at = COALESCE((body::jsonb ->> 'updated_at')::timestamptz, created_at);
ALTER TABLE paydesk_approvals ENABLE TRIGGER paydesk_approvals_move;
ALTER TABLE paydesk_approvals ALTER COLUMN updated_at SET NOT NULL;
CREATE INDEX paydesk_approvals_open ON paydesk_approvals (created_at, id COLLATE "C")
    WHERE state IN ('requested', 'approved', 'sent');
CREATE INDEX paydesk_approvals_closed ON paydesk_approvals (updated_at DESC, id COLLATE "C" DESC)
    WHERE state IN ('rejected', 'expired', 'finished');
