-- +goose Up
-- Every discussion page counts the viewer's unseen notifications; a
-- learner who follows busy threads has tens of thousands of seen ones,
-- so the count reads only the unseen, from the index alone.
CREATE INDEX notifications_unseen ON notifications (platform_id, cohort_id, link_id, user_id, thread_id, post_id) WHERE seen_at IS NULL;

-- +goose Down
DROP INDEX notifications_unseen;
