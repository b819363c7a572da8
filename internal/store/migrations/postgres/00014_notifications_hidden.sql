-- +goose Up
-- Every discussion page counts the viewer's unseen notifications, which
-- for learners leaves out those of threads and posts moderators hid.
-- Checking each against its thread and post cost more than the rest of
-- the page's statement; the notification now carries whether it is
-- hidden, kept by moderation (for every notification of the thread it
-- acts in) and set when it is written.
ALTER TABLE notifications ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE notifications n SET hidden = TRUE
    WHERE EXISTS (SELECT 1 FROM threads t WHERE t.platform_id = n.platform_id AND t.id = n.thread_id AND t.hidden)
       OR EXISTS (SELECT 1 FROM posts p WHERE p.platform_id = n.platform_id AND p.id = n.post_id AND p.hidden);
CREATE INDEX notifications_thread ON notifications (platform_id, thread_id);
DROP INDEX notifications_unseen;
CREATE INDEX notifications_unseen ON notifications (platform_id, cohort_id, link_id, user_id, hidden) WHERE seen_at IS NULL;

-- +goose Down
DROP INDEX notifications_unseen;
CREATE INDEX notifications_unseen ON notifications (platform_id, cohort_id, link_id, user_id, thread_id, post_id) WHERE seen_at IS NULL;
DROP INDEX notifications_thread;
ALTER TABLE notifications DROP COLUMN hidden;
