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
    created_at  DATETIME NOT NULL,
    UNIQUE (platform_id, kind, link_id, cohort_id)
);

CREATE TABLE space_roles (
    space_id   TEXT NOT NULL REFERENCES spaces (id) ON DELETE CASCADE,
    user_id    TEXT NOT NULL,
    role       TEXT NOT NULL CHECK (role IN ('member', 'moderator', 'expert')),
    granted_by TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    PRIMARY KEY (space_id, user_id, role)
);

-- One space per activity's cohort that holds anything already.
INSERT INTO spaces (id, platform_id, kind, course_id, link_id, cohort_id, created_at)
SELECT lower(hex(randomblob(16))), k.platform_id, 'activity_cohort', COALESCE(rl.course_id, k.course_id), k.link_id, k.cohort_id, k.created_at
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

UPDATE threads SET space_id = COALESCE((SELECT s.id FROM spaces s
    WHERE s.platform_id = threads.platform_id AND s.kind = 'activity_cohort' AND s.link_id = threads.link_id AND s.cohort_id = threads.cohort_id), '');
UPDATE posts SET space_id = COALESCE((SELECT s.id FROM spaces s
    WHERE s.platform_id = posts.platform_id AND s.kind = 'activity_cohort' AND s.link_id = posts.link_id AND s.cohort_id = posts.cohort_id), '');
UPDATE participation_events SET space_id = COALESCE((SELECT s.id FROM spaces s
    WHERE s.platform_id = participation_events.platform_id AND s.kind = 'activity_cohort' AND s.link_id = participation_events.link_id AND s.cohort_id = participation_events.cohort_id), '');
UPDATE notifications SET space_id = COALESCE((SELECT s.id FROM spaces s
    WHERE s.platform_id = notifications.platform_id AND s.kind = 'activity_cohort' AND s.link_id = notifications.link_id AND s.cohort_id = notifications.cohort_id), '');
UPDATE post_flags SET space_id = COALESCE((SELECT s.id FROM spaces s
    WHERE s.platform_id = post_flags.platform_id AND s.kind = 'activity_cohort' AND s.link_id = post_flags.link_id AND s.cohort_id = post_flags.cohort_id), '');
-- Rows that name only a thread or a post take its space.
UPDATE thread_tags SET space_id = COALESCE((SELECT t.space_id FROM threads t WHERE t.platform_id = thread_tags.platform_id AND t.id = thread_tags.thread_id), '');
UPDATE thread_follows SET space_id = COALESCE((SELECT t.space_id FROM threads t WHERE t.platform_id = thread_follows.platform_id AND t.id = thread_follows.thread_id), '');
UPDATE thread_visits SET space_id = COALESCE((SELECT t.space_id FROM threads t WHERE t.platform_id = thread_visits.platform_id AND t.id = thread_visits.thread_id), '');
UPDATE post_votes SET space_id = COALESCE((SELECT p.space_id FROM posts p WHERE p.platform_id = post_votes.platform_id AND p.id = post_votes.post_id), '');
UPDATE post_revisions SET space_id = COALESCE((SELECT p.space_id FROM posts p WHERE p.platform_id = post_revisions.platform_id AND p.id = post_revisions.post_id), '');

-- Live topics name the space (live.SpaceTopic): the day of events kept
-- for reconnecting browsers follows its space.
UPDATE live_events SET topic = (SELECT 'space:' || s.id FROM spaces s
    WHERE live_events.topic = 'space:' || s.platform_id || ':' || s.link_id || ':' || s.cohort_id)
    WHERE topic IN (SELECT 'space:' || s.platform_id || ':' || s.link_id || ':' || s.cohort_id FROM spaces s);

-- The indexes of the discussion's pages lead with the space.
DROP INDEX threads_space_activity;
DROP INDEX threads_space_new;
DROP INDEX threads_space_top;
DROP INDEX threads_space_author;
DROP INDEX thread_tags_tag;
DROP INDEX posts_space_hidden;
DROP INDEX post_flags_space_open;
DROP INDEX notifications_recipient;
DROP INDEX notifications_unseen;
CREATE INDEX threads_space_activity ON threads (space_id, pinned, last_post_id);
CREATE INDEX threads_space_new ON threads (space_id, id);
CREATE INDEX threads_space_top ON threads (space_id, vote_count, id);
CREATE INDEX threads_space_author ON threads (space_id, author_id);
CREATE INDEX thread_tags_tag ON thread_tags (space_id, tag, thread_id);
CREATE INDEX posts_space_hidden ON posts (space_id, hidden);
CREATE INDEX post_flags_space_open ON post_flags (space_id, status, post_id);
CREATE INDEX notifications_recipient ON notifications (space_id, user_id, id);
CREATE INDEX notifications_unseen ON notifications (space_id, user_id, hidden) WHERE seen_at IS NULL;

-- Full-text search reads only the searched spaces' posts: every document
-- of the index carries its space's word (discussion.spaceWord: "sp" and the
-- space's id without hyphens) in a column of its own, and a search asks for
-- its terms and one of its spaces' words together, so the index never
-- yields another space's posts, however many of them hold the terms. The
-- index is rebuilt with the new words.
DROP TRIGGER threads_search_title;
DROP TRIGGER posts_search_delete;
DROP TRIGGER posts_search_update;
DROP TRIGGER posts_search_insert;
DROP TABLE post_fts;
DROP VIEW post_search_docs;
CREATE VIEW post_search_docs AS
    SELECT m.rid AS rid, CASE WHEN p.opening THEN t.title ELSE '' END AS title, p.body AS body,
        'sp' || replace(p.space_id, '-', '') AS space
    FROM post_search_ids m
    JOIN posts p ON p.platform_id = m.platform_id AND p.id = m.post_id
    JOIN threads t ON t.platform_id = p.platform_id AND t.id = p.thread_id;
CREATE VIRTUAL TABLE post_fts USING fts5(title, body, space, content='post_search_docs', content_rowid='rid',
    tokenize='unicode61 remove_diacritics 2');

-- +goose StatementBegin
CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_search_ids (platform_id, post_id) VALUES (new.platform_id, new.id);
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = new.platform_id AND id = new.thread_id), '') ELSE '' END, new.body,
        'sp' || replace(new.space_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = new.platform_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_update AFTER UPDATE OF body, opening ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = old.platform_id AND id = old.thread_id), '') ELSE '' END, old.body,
        'sp' || replace(old.space_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = old.platform_id AND m.post_id = old.id;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = new.platform_id AND id = new.thread_id), '') ELSE '' END, new.body,
        'sp' || replace(new.space_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = new.platform_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = old.platform_id AND id = old.thread_id), '') ELSE '' END, old.body,
        'sp' || replace(old.space_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = old.platform_id AND m.post_id = old.id;
    DELETE FROM post_search_ids WHERE platform_id = old.platform_id AND post_id = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER threads_search_title AFTER UPDATE OF title ON threads WHEN old.title IS NOT new.title BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, old.title, p.body, 'sp' || replace(p.space_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.platform_id = p.platform_id AND m.post_id = p.id
    WHERE p.platform_id = old.platform_id AND p.id = old.opening_post_id AND p.opening;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, new.title, p.body, 'sp' || replace(p.space_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.platform_id = p.platform_id AND m.post_id = p.id
    WHERE p.platform_id = new.platform_id AND p.id = new.opening_post_id AND p.opening;
END;
-- +goose StatementEnd
INSERT INTO post_fts (post_fts) VALUES ('rebuild');

-- +goose Down
DROP TRIGGER threads_search_title;
DROP TRIGGER posts_search_delete;
DROP TRIGGER posts_search_update;
DROP TRIGGER posts_search_insert;
DROP TABLE post_fts;
DROP VIEW post_search_docs;
CREATE VIEW post_search_docs AS
    SELECT m.rid AS rid, CASE WHEN p.opening THEN t.title ELSE '' END AS title, p.body AS body,
        'sp' || replace(p.platform_id, '-', '') || 'x' || replace(p.link_id, '-', '') || 'x' || replace(p.cohort_id, '-', '') AS space
    FROM post_search_ids m
    JOIN posts p ON p.platform_id = m.platform_id AND p.id = m.post_id
    JOIN threads t ON t.platform_id = p.platform_id AND t.id = p.thread_id;
CREATE VIRTUAL TABLE post_fts USING fts5(title, body, space, content='post_search_docs', content_rowid='rid',
    tokenize='unicode61 remove_diacritics 2');

-- +goose StatementBegin
CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_search_ids (platform_id, post_id) VALUES (new.platform_id, new.id);
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = new.platform_id AND id = new.thread_id), '') ELSE '' END, new.body,
        'sp' || replace(new.platform_id, '-', '') || 'x' || replace(new.link_id, '-', '') || 'x' || replace(new.cohort_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = new.platform_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_update AFTER UPDATE OF body, opening ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = old.platform_id AND id = old.thread_id), '') ELSE '' END, old.body,
        'sp' || replace(old.platform_id, '-', '') || 'x' || replace(old.link_id, '-', '') || 'x' || replace(old.cohort_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = old.platform_id AND m.post_id = old.id;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = new.platform_id AND id = new.thread_id), '') ELSE '' END, new.body,
        'sp' || replace(new.platform_id, '-', '') || 'x' || replace(new.link_id, '-', '') || 'x' || replace(new.cohort_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = new.platform_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = old.platform_id AND id = old.thread_id), '') ELSE '' END, old.body,
        'sp' || replace(old.platform_id, '-', '') || 'x' || replace(old.link_id, '-', '') || 'x' || replace(old.cohort_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = old.platform_id AND m.post_id = old.id;
    DELETE FROM post_search_ids WHERE platform_id = old.platform_id AND post_id = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER threads_search_title AFTER UPDATE OF title ON threads WHEN old.title IS NOT new.title BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, old.title, p.body, 'sp' || replace(p.platform_id, '-', '') || 'x' || replace(p.link_id, '-', '') || 'x' || replace(p.cohort_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.platform_id = p.platform_id AND m.post_id = p.id
    WHERE p.platform_id = old.platform_id AND p.id = old.opening_post_id AND p.opening;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, new.title, p.body, 'sp' || replace(p.platform_id, '-', '') || 'x' || replace(p.link_id, '-', '') || 'x' || replace(p.cohort_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.platform_id = p.platform_id AND m.post_id = p.id
    WHERE p.platform_id = new.platform_id AND p.id = new.opening_post_id AND p.opening;
END;
-- +goose StatementEnd

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
UPDATE live_events SET topic = (SELECT 'space:' || s.platform_id || ':' || s.link_id || ':' || s.cohort_id FROM spaces s WHERE live_events.topic = 'space:' || s.id)
    WHERE topic IN (SELECT 'space:' || s.id FROM spaces s);
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
INSERT INTO post_fts (post_fts) VALUES ('rebuild');
