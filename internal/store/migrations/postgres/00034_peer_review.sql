-- +goose Up
-- Peer review (activity kind "peer_review"). Every table leads with the
-- organisation; the activity is its resource link (link_id).

-- A learner's submission to one peer review: the current version number
-- and when it came; the text, link and files of each version are kept in
-- pr_versions, so a reviewer reads the version they were given.
CREATE TABLE pr_submissions (
    org_id       TEXT NOT NULL,
    id           TEXT NOT NULL,
    link_id      TEXT NOT NULL,
    course_id    TEXT NOT NULL,
    cohort_id    TEXT NOT NULL,
    author_id    TEXT NOT NULL,
    version      INTEGER NOT NULL,
    submitted_at TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    late         BOOLEAN NOT NULL DEFAULT FALSE,
    withdrawn    BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX pr_submissions_author ON pr_submissions (org_id, link_id, author_id);
CREATE INDEX pr_submissions_cohort ON pr_submissions (org_id, link_id, cohort_id, submitted_at);

CREATE TABLE pr_versions (
    org_id        TEXT NOT NULL,
    submission_id TEXT NOT NULL,
    version       INTEGER NOT NULL,
    body          TEXT NOT NULL,
    link_url      TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, submission_id, version)
);

-- The files of a version. A new version that keeps a file names the same
-- blob again; the id, random, is what the file's URL carries.
CREATE TABLE pr_files (
    org_id        TEXT NOT NULL,
    id            TEXT NOT NULL,
    link_id       TEXT NOT NULL,
    uploader_id   TEXT NOT NULL,
    submission_id TEXT NOT NULL DEFAULT '',
    version       INTEGER NOT NULL DEFAULT 0,
    seq      INTEGER NOT NULL DEFAULT 0,
    blob_key      TEXT NOT NULL,
    content_type  TEXT NOT NULL,
    size          BIGINT NOT NULL,
    name          TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX pr_files_version ON pr_files (org_id, submission_id, version, seq);
CREATE INDEX pr_files_uploader ON pr_files (org_id, uploader_id, created_at);

-- One review: a submission given to a reviewer (why, when, by whom), the
-- version they were given, the rubric version they used, their scores and
-- comments (a JSON document), and what the author thought of it.
-- state: assigned, draft, done, removed.
CREATE TABLE pr_reviews (
    org_id           TEXT NOT NULL,
    id               TEXT NOT NULL,
    link_id          TEXT NOT NULL,
    cohort_id        TEXT NOT NULL,
    submission_id    TEXT NOT NULL,
    author_id        TEXT NOT NULL,
    reviewer_id      TEXT NOT NULL,
    version          INTEGER NOT NULL,
    reason           TEXT NOT NULL,
    assigned_by      TEXT NOT NULL DEFAULT '',
    assigned_at      TIMESTAMPTZ NOT NULL,
    state            TEXT NOT NULL,
    rubric_version   INTEGER NOT NULL DEFAULT 0,
    doc              TEXT NOT NULL DEFAULT '',
    -- The points given per criterion ("c1:3,c2:2"), as grading reads them
    -- without the comments.
    points           TEXT NOT NULL DEFAULT '',
    updated_at       TIMESTAMPTZ NOT NULL,
    done_at          TIMESTAMPTZ,
    on_time          BOOLEAN NOT NULL DEFAULT FALSE,
    helpfulness      INTEGER NOT NULL DEFAULT 0,
    helpfulness_note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, id)
);
CREATE INDEX pr_reviews_reviewer ON pr_reviews (org_id, link_id, reviewer_id);
CREATE INDEX pr_reviews_submission ON pr_reviews (org_id, submission_id);
CREATE INDEX pr_reviews_link ON pr_reviews (org_id, link_id, cohort_id);
-- No one reviews the same submission twice.
CREATE UNIQUE INDEX pr_reviews_once ON pr_reviews (org_id, submission_id, reviewer_id) WHERE state <> 'removed';

-- Who was given what, when and why: every assignment and removal.
CREATE TABLE pr_allocation_log (
    org_id      TEXT NOT NULL,
    id          TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    action      TEXT NOT NULL,
    review_id   TEXT NOT NULL,
    author_id   TEXT NOT NULL,
    reviewer_id TEXT NOT NULL,
    reason      TEXT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, id)
);
CREATE INDEX pr_allocation_log_link ON pr_allocation_log (org_id, link_id, at);

-- Each rubric an activity used, so a review done against an earlier one
-- stays readable after the rubric changes.
CREATE TABLE pr_rubrics (
    org_id     TEXT NOT NULL,
    link_id    TEXT NOT NULL,
    version    INTEGER NOT NULL,
    doc        TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, link_id, version)
);

-- Calibration: examples the instructor graded, and each learner's
-- assessment of them.
CREATE TABLE pr_examples (
    org_id     TEXT NOT NULL,
    id         TEXT NOT NULL,
    link_id    TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL,
    doc        TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX pr_examples_link ON pr_examples (org_id, link_id, created_at);
CREATE TABLE pr_calibrations (
    org_id     TEXT NOT NULL,
    link_id    TEXT NOT NULL,
    example_id TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    doc        TEXT NOT NULL,
    done_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, link_id, example_id, user_id)
);

-- A review its author says is unfair, for the instructor.
CREATE TABLE pr_flags (
    org_id      TEXT NOT NULL,
    review_id   TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    resolution  TEXT NOT NULL DEFAULT '',
    resolved_by TEXT NOT NULL DEFAULT '',
    resolved_at TIMESTAMPTZ,
    PRIMARY KEY (org_id, review_id)
);
CREATE INDEX pr_flags_link ON pr_flags (org_id, link_id, created_at);

-- An instructor's grade that wins over the computation.
CREATE TABLE pr_overrides (
    org_id   TEXT NOT NULL,
    link_id  TEXT NOT NULL,
    user_id  TEXT NOT NULL,
    fraction DOUBLE PRECISION NOT NULL,
    note     TEXT NOT NULL,
    by_id    TEXT NOT NULL,
    at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, link_id, user_id)
);

-- Each learner's computed grade and how it was computed, written when
-- reviews change, read by the gradebook's completion measure.
CREATE TABLE pr_grades (
    org_id      TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    submission  DOUBLE PRECISION NOT NULL,
    reviewing   DOUBLE PRECISION NOT NULL,
    combined    DOUBLE PRECISION NOT NULL,
    scored      BOOLEAN NOT NULL,
    explanation TEXT NOT NULL,
    -- The learner's weight as a reviewer, and why (for staff).
    weight      DOUBLE PRECISION NOT NULL DEFAULT 1,
    weight_why  TEXT NOT NULL DEFAULT '',
    -- The reviews of others' work given to the learner, and done.
    reviews_assigned INTEGER NOT NULL DEFAULT 0,
    reviews_done     INTEGER NOT NULL DEFAULT 0,
    computed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, link_id, user_id)
);

-- What the last computation found that the dashboard explains: each
-- reviewer's weight, outlying reviews, pairs trading marks (a JSON
-- document), kept so the dashboard does not compute.
CREATE TABLE pr_insights (
    org_id      TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    doc         TEXT NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (org_id, link_id)
);

-- An activity's phase changes that are events, not dates: when the rest
-- was allocated at the end of the submission phase, and when the
-- instructor released the results.
CREATE TABLE pr_activity_state (
    org_id      TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    filled_at   TIMESTAMPTZ,
    released_at TIMESTAMPTZ,
    PRIMARY KEY (org_id, link_id)
);

-- A notification about no post (a peer review's reminder) says what it
-- is about in words.
ALTER TABLE notifications ADD COLUMN detail TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE notifications DROP COLUMN detail;
DROP TABLE pr_activity_state;
DROP TABLE pr_insights;
DROP TABLE pr_grades;
DROP TABLE pr_overrides;
DROP TABLE pr_flags;
DROP TABLE pr_calibrations;
DROP TABLE pr_examples;
DROP TABLE pr_rubrics;
DROP TABLE pr_allocation_log;
DROP TABLE pr_reviews;
DROP TABLE pr_files;
DROP TABLE pr_versions;
DROP TABLE pr_submissions;
