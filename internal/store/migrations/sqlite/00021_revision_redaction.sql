-- +goose Up
-- Staff can redact an earlier version of a post (personal data posted by
-- mistake): its title and text are emptied in place, and the version
-- keeps when and by whom, for the history's "redacted by staff" line.
ALTER TABLE post_revisions ADD COLUMN redacted_at DATETIME;
ALTER TABLE post_revisions ADD COLUMN redacted_by TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE post_revisions DROP COLUMN redacted_by;
ALTER TABLE post_revisions DROP COLUMN redacted_at;
