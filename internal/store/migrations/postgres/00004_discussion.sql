-- +goose Up
-- The cohort discussion. Every row carries its platform (the tenant) and
-- cohort; link_id names the space (the activity). Keys lead with platform_id.
CREATE TABLE threads (
    platform_id      TEXT NOT NULL,
    id               TEXT NOT NULL,
    course_id        TEXT NOT NULL,
    link_id          TEXT NOT NULL,
    cohort_id        TEXT NOT NULL,
    kind             TEXT NOT NULL,
    title            TEXT NOT NULL,
    tags             TEXT NOT NULL DEFAULT '',
    author_id        TEXT NOT NULL,
    anonymous        BOOLEAN NOT NULL DEFAULT FALSE,
    opening_post_id  TEXT NOT NULL,
    accepted_post_id TEXT NOT NULL DEFAULT '',
    pinned           BOOLEAN NOT NULL DEFAULT FALSE,
    locked           BOOLEAN NOT NULL DEFAULT FALSE,
    closed           BOOLEAN NOT NULL DEFAULT FALSE,
    reply_count      INTEGER NOT NULL DEFAULT 0,
    vote_count       INTEGER NOT NULL DEFAULT 0,
    -- The id of the latest post: ids are time-ordered, so it sorts by activity.
    last_post_id     TEXT NOT NULL,
    last_activity_at TIMESTAMPTZ NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, id)
);
CREATE INDEX threads_space_activity ON threads (platform_id, cohort_id, link_id, pinned, last_post_id);
CREATE INDEX threads_space_new ON threads (platform_id, cohort_id, link_id, id);
CREATE INDEX threads_space_top ON threads (platform_id, cohort_id, link_id, vote_count, id);
CREATE INDEX threads_space_author ON threads (platform_id, cohort_id, link_id, author_id);

CREATE TABLE thread_tags (
    platform_id TEXT NOT NULL,
    cohort_id   TEXT NOT NULL,
    thread_id   TEXT NOT NULL,
    tag         TEXT NOT NULL,
    PRIMARY KEY (platform_id, thread_id, tag)
);
CREATE INDEX thread_tags_tag ON thread_tags (platform_id, cohort_id, tag, thread_id);

CREATE TABLE posts (
    platform_id  TEXT NOT NULL,
    id           TEXT NOT NULL,
    cohort_id    TEXT NOT NULL,
    link_id      TEXT NOT NULL,
    thread_id    TEXT NOT NULL,
    -- '' for the opening post and replies to the thread; a reply's id for an answer to it.
    parent_id    TEXT NOT NULL DEFAULT '',
    opening      BOOLEAN NOT NULL DEFAULT FALSE,
    author_id    TEXT NOT NULL,
    anonymous    BOOLEAN NOT NULL DEFAULT FALSE,
    body         TEXT NOT NULL,
    vote_count   INTEGER NOT NULL DEFAULT 0,
    endorsed     BOOLEAN NOT NULL DEFAULT FALSE,
    deleted      BOOLEAN NOT NULL DEFAULT FALSE,
    edited_at    TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, id)
);
CREATE INDEX posts_thread ON posts (platform_id, thread_id, id);
CREATE INDEX posts_author_recent ON posts (platform_id, author_id, created_at);

CREATE TABLE post_revisions (
    platform_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    cohort_id   TEXT NOT NULL,
    post_id     TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    editor_id   TEXT NOT NULL,
    reason      TEXT NOT NULL DEFAULT 'edit',
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, id)
);
CREATE INDEX post_revisions_post ON post_revisions (platform_id, post_id, id);

CREATE TABLE post_votes (
    platform_id TEXT NOT NULL,
    post_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    cohort_id   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, post_id, user_id)
);

CREATE TABLE thread_follows (
    platform_id TEXT NOT NULL,
    thread_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    cohort_id   TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, thread_id, user_id)
);
CREATE INDEX thread_follows_user ON thread_follows (platform_id, user_id, thread_id);

-- What a person has seen of a thread: the post count at their last visit.
CREATE TABLE thread_visits (
    platform_id   TEXT NOT NULL,
    thread_id     TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    cohort_id     TEXT NOT NULL,
    seen_posts    INTEGER NOT NULL,
    last_visit_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, thread_id, user_id)
);

-- Participation events, written with the action, for completion rules.
CREATE TABLE participation_events (
    platform_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    course_id   TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    cohort_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    thread_id   TEXT NOT NULL,
    post_id     TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, id)
);
CREATE INDEX participation_events_user ON participation_events (platform_id, course_id, user_id, created_at);

-- +goose Down
DROP TABLE participation_events;
DROP TABLE thread_visits;
DROP TABLE thread_follows;
DROP TABLE post_votes;
DROP TABLE post_revisions;
DROP TABLE posts;
DROP TABLE thread_tags;
DROP TABLE threads;
