-- +goose Up
-- Spaces: where a thread lives is an entity of its own. A space has a kind
-- (today only an activity's cohort, 'activity_cohort'), an owner in the
-- course model where it has one ('' where it has none), and roles held in
-- it besides those the course gives. Discussion rows are keyed by their
-- space; platform_id stays on them as the tenant key.
CREATE TABLE spaces (
    id          TEXT PRIMARY KEY,
    platform_id TEXT NOT NULL,
    kind        TEXT NOT NULL,
    course_id   TEXT NOT NULL DEFAULT '',
    link_id     TEXT NOT NULL DEFAULT '',
    cohort_id   TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (platform_id, kind, link_id, cohort_id)
);

CREATE TABLE space_roles (
    space_id   TEXT NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('member', 'moderator', 'expert')),
    granted_by TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (space_id, user_id, role)
);

-- One space per activity's cohort that holds anything already.
INSERT INTO spaces (id, platform_id, kind, course_id, link_id, cohort_id, created_at)
SELECT gen_random_uuid()::text, k.platform_id, 'activity_cohort', COALESCE(rl.course_id, k.course_id), k.link_id, k.cohort_id, k.created_at
FROM (
    SELECT platform_id, link_id, cohort_id, MAX(course_id) AS course_id, MIN(created_at) AS created_at FROM (
        SELECT platform_id, link_id, cohort_id, course_id, created_at FROM threads
        UNION ALL SELECT platform_id, link_id, cohort_id, '', created_at FROM posts
        UNION ALL SELECT platform_id, link_id, cohort_id, course_id, created_at FROM participation_events
        UNION ALL SELECT platform_id, link_id, cohort_id, '', created_at FROM notifications
        UNION ALL SELECT platform_id, link_id, cohort_id, course_id, created_at FROM post_flags
    ) seen GROUP BY platform_id, link_id, cohort_id
) k
LEFT JOIN resource_links rl ON rl.platform_id = k.platform_id AND rl.id = k.link_id;

-- The indexes led by (platform, cohort, activity) go first: the updates
-- below rewrite every row, and need not keep them.
DROP INDEX threads_space_activity;
DROP INDEX threads_space_new;
DROP INDEX threads_space_top;
DROP INDEX threads_space_author;
DROP INDEX thread_tags_tag;
DROP INDEX posts_space_hidden;
DROP INDEX post_flags_space_open;
DROP INDEX notifications_recipient;
DROP INDEX notifications_unseen;
DROP INDEX posts_space_search;

ALTER TABLE threads ADD COLUMN space_id TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN space_id TEXT NOT NULL DEFAULT '';
ALTER TABLE thread_tags ADD COLUMN space_id TEXT NOT NULL DEFAULT '';
ALTER TABLE post_votes ADD COLUMN space_id TEXT NOT NULL DEFAULT '';
ALTER TABLE post_flags ADD COLUMN space_id TEXT NOT NULL DEFAULT '';
ALTER TABLE post_revisions ADD COLUMN space_id TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN space_id TEXT NOT NULL DEFAULT '';
ALTER TABLE participation_events ADD COLUMN space_id TEXT NOT NULL DEFAULT '';
ALTER TABLE thread_follows ADD COLUMN space_id TEXT NOT NULL DEFAULT '';
ALTER TABLE thread_visits ADD COLUMN space_id TEXT NOT NULL DEFAULT '';

UPDATE threads t SET space_id = s.id FROM spaces s
    WHERE s.platform_id = t.platform_id AND s.kind = 'activity_cohort' AND s.link_id = t.link_id AND s.cohort_id = t.cohort_id;
UPDATE posts p SET space_id = s.id FROM spaces s
    WHERE s.platform_id = p.platform_id AND s.kind = 'activity_cohort' AND s.link_id = p.link_id AND s.cohort_id = p.cohort_id;
UPDATE participation_events e SET space_id = s.id FROM spaces s
    WHERE s.platform_id = e.platform_id AND s.kind = 'activity_cohort' AND s.link_id = e.link_id AND s.cohort_id = e.cohort_id;
UPDATE notifications n SET space_id = s.id FROM spaces s
    WHERE s.platform_id = n.platform_id AND s.kind = 'activity_cohort' AND s.link_id = n.link_id AND s.cohort_id = n.cohort_id;
UPDATE post_flags f SET space_id = s.id FROM spaces s
    WHERE s.platform_id = f.platform_id AND s.kind = 'activity_cohort' AND s.link_id = f.link_id AND s.cohort_id = f.cohort_id;
-- Rows that name only a thread or a post take its space.
UPDATE thread_tags g SET space_id = t.space_id FROM threads t WHERE t.platform_id = g.platform_id AND t.id = g.thread_id;
UPDATE thread_follows f SET space_id = t.space_id FROM threads t WHERE t.platform_id = f.platform_id AND t.id = f.thread_id;
UPDATE thread_visits v SET space_id = t.space_id FROM threads t WHERE t.platform_id = v.platform_id AND t.id = v.thread_id;
UPDATE post_votes v SET space_id = p.space_id FROM posts p WHERE p.platform_id = v.platform_id AND p.id = v.post_id;
UPDATE post_revisions r SET space_id = p.space_id FROM posts p WHERE p.platform_id = r.platform_id AND p.id = r.post_id;

-- Live topics name the space (live.SpaceTopic): the day of events kept
-- for reconnecting browsers follows its space.
UPDATE live_events e SET topic = 'space:' || s.id FROM spaces s
    WHERE e.topic = 'space:' || s.platform_id || ':' || s.link_id || ':' || s.cohort_id;

-- The indexes of the discussion's pages lead with the space.
CREATE INDEX threads_space_activity ON threads (space_id, pinned, last_post_id);
CREATE INDEX threads_space_new ON threads (space_id, id);
CREATE INDEX threads_space_top ON threads (space_id, vote_count, id);
CREATE INDEX threads_space_author ON threads (space_id, author_id);
CREATE INDEX thread_tags_tag ON thread_tags (space_id, tag, thread_id);
CREATE INDEX posts_space_hidden ON posts (space_id, hidden);
CREATE INDEX post_flags_space_open ON post_flags (space_id, status, post_id);
CREATE INDEX notifications_recipient ON notifications (space_id, user_id, id);
CREATE INDEX notifications_unseen ON notifications (space_id, user_id, hidden) WHERE seen_at IS NULL;

-- Full-text search reads only the searched spaces' posts: each post's
-- document holds its space's word (discussion.spaceWord: "sp" and the
-- space's id without hyphens), and a search matches its terms and one of
-- its spaces' words together on the same expression
-- (discussion.pgSpaceDocument), so the index never yields another space's
-- posts, however many of them hold the terms.
CREATE INDEX posts_space_search ON posts USING GIN ((search || array_to_tsvector(ARRAY['sp' || replace(space_id, '-', '')])));

-- +goose Down
DROP INDEX posts_space_search;
CREATE INDEX posts_space_search ON posts USING GIN ((search || array_to_tsvector(ARRAY['sp' || replace(platform_id, '-', '') || 'x' || replace(link_id, '-', '') || 'x' || replace(cohort_id, '-', '')])));
DROP INDEX threads_space_activity;
DROP INDEX threads_space_new;
DROP INDEX threads_space_top;
DROP INDEX threads_space_author;
DROP INDEX thread_tags_tag;
DROP INDEX posts_space_hidden;
DROP INDEX post_flags_space_open;
DROP INDEX notifications_recipient;
DROP INDEX notifications_unseen;
CREATE INDEX threads_space_activity ON threads (platform_id, cohort_id, link_id, pinned, last_post_id);
CREATE INDEX threads_space_new ON threads (platform_id, cohort_id, link_id, id);
CREATE INDEX threads_space_top ON threads (platform_id, cohort_id, link_id, vote_count, id);
CREATE INDEX threads_space_author ON threads (platform_id, cohort_id, link_id, author_id);
CREATE INDEX thread_tags_tag ON thread_tags (platform_id, cohort_id, tag, thread_id);
CREATE INDEX posts_space_hidden ON posts (platform_id, cohort_id, link_id, hidden);
CREATE INDEX post_flags_space_open ON post_flags (platform_id, cohort_id, link_id, status, post_id);
CREATE INDEX notifications_recipient ON notifications (platform_id, cohort_id, link_id, user_id, id);
CREATE INDEX notifications_unseen ON notifications (platform_id, cohort_id, link_id, user_id, hidden) WHERE seen_at IS NULL;
UPDATE live_events e SET topic = 'space:' || s.platform_id || ':' || s.link_id || ':' || s.cohort_id FROM spaces s
    WHERE e.topic = 'space:' || s.id;
ALTER TABLE thread_visits DROP COLUMN space_id;
ALTER TABLE thread_follows DROP COLUMN space_id;
ALTER TABLE participation_events DROP COLUMN space_id;
ALTER TABLE notifications DROP COLUMN space_id;
ALTER TABLE post_revisions DROP COLUMN space_id;
ALTER TABLE post_flags DROP COLUMN space_id;
ALTER TABLE post_votes DROP COLUMN space_id;
ALTER TABLE thread_tags DROP COLUMN space_id;
ALTER TABLE posts DROP COLUMN space_id;
ALTER TABLE threads DROP COLUMN space_id;
DROP TABLE space_roles;
DROP TABLE spaces;
