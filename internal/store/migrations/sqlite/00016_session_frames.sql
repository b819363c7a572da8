-- +goose Up
-- The web origins that may show a session's pages in a frame: its own
-- LMS's, learned at launch (see tenant.FrameOrigins), space-separated. A
-- page is framed by the LMS of its session only, not by every registered
-- LMS.
ALTER TABLE sessions ADD COLUMN frame_origins TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sessions DROP COLUMN frame_origins;
