-- +goose Up
-- The sections a member's last launch named (a JSON array of cohort keys,
-- empty for none): a teaching assistant whose launches name sections sees
-- only their sections' cohorts (docs/discussion.md). Each request of a
-- session reads it with the membership, to check the session still holds.
ALTER TABLE memberships ADD COLUMN sections TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE memberships DROP COLUMN sections;
