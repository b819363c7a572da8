-- +goose Up
-- Moderation: flags on posts, hidden posts, suspensions from posting in a
-- course, and the audit log of every moderation action.
ALTER TABLE posts ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE posts ADD COLUMN hidden_by TEXT NOT NULL DEFAULT '';
ALTER TABLE posts ADD COLUMN hidden_at TIMESTAMPTZ;
-- A thread whose opening post is hidden is hidden from learners; its
-- hidden replies are left out of the reply count learners see.
ALTER TABLE threads ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE threads ADD COLUMN hidden_replies INTEGER NOT NULL DEFAULT 0;
CREATE INDEX posts_space_hidden ON posts (platform_id, cohort_id, link_id, hidden);

-- status: open, dismissed (staff saw nothing wrong) or resolved (the post was hidden).
CREATE TABLE post_flags (
    platform_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    course_id   TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    cohort_id   TEXT NOT NULL,
    thread_id   TEXT NOT NULL,
    post_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'open',
    resolved_by TEXT NOT NULL DEFAULT '',
    resolved_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, id)
);
-- One open flag per person per post.
CREATE UNIQUE INDEX post_flags_open_once ON post_flags (platform_id, post_id, user_id) WHERE status = 'open';
CREATE INDEX post_flags_space_open ON post_flags (platform_id, cohort_id, link_id, status, post_id);

-- A learner suspended from posting in a course: they read, but post nothing.
CREATE TABLE course_suspensions (
    platform_id  TEXT NOT NULL,
    course_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    suspended_by TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, course_id, user_id)
);

-- Every moderation action, written in the transaction of the action.
CREATE TABLE moderation_log (
    platform_id    TEXT NOT NULL,
    id             TEXT NOT NULL,
    course_id      TEXT NOT NULL,
    link_id        TEXT NOT NULL,
    cohort_id      TEXT NOT NULL,
    actor_id       TEXT NOT NULL,
    action         TEXT NOT NULL,
    thread_id      TEXT NOT NULL DEFAULT '',
    post_id        TEXT NOT NULL DEFAULT '',
    target_user_id TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '',
    created_at     TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, id)
);
CREATE INDEX moderation_log_course ON moderation_log (platform_id, course_id, id);

-- +goose Down
DROP TABLE moderation_log;
DROP TABLE course_suspensions;
DROP TABLE post_flags;
DROP INDEX posts_space_hidden;
ALTER TABLE threads DROP COLUMN hidden_replies;
ALTER TABLE threads DROP COLUMN hidden;
ALTER TABLE posts DROP COLUMN hidden_at;
ALTER TABLE posts DROP COLUMN hidden_by;
ALTER TABLE posts DROP COLUMN hidden;
