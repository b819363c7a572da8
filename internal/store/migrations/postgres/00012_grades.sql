-- +goose Up
-- The latest score Roundtable owes the LMS for each learner of a graded
-- activity. A newer score overwrites the row (version + 1), so a queued
-- older one is never sent; the delivery job (River) carries only the key
-- and sends whatever the row holds when it runs. scored_at is the AGS
-- timestamp: strictly increasing per row, so the LMS never keeps a stale
-- score over a newer one.
CREATE TABLE grade_scores (
    platform_id       TEXT NOT NULL,
    link_id           TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    course_id         TEXT NOT NULL,
    score_given       DOUBLE PRECISION NOT NULL,
    score_maximum     DOUBLE PRECISION NOT NULL,
    activity_progress TEXT NOT NULL,
    grading_progress  TEXT NOT NULL,
    comment           TEXT NOT NULL DEFAULT '',
    scored_at         TIMESTAMPTZ NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    delivered_version INTEGER NOT NULL DEFAULT 0,
    -- pending | delivered | failed (dead letter, waiting for a person's retry)
    state             TEXT NOT NULL DEFAULT 'pending',
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT NOT NULL DEFAULT '',
    last_attempt_at   TIMESTAMPTZ,
    delivered_at      TIMESTAMPTZ,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, link_id, user_id),
    FOREIGN KEY (platform_id, link_id) REFERENCES resource_links(platform_id, id) ON DELETE CASCADE
);
CREATE INDEX grade_scores_course_state ON grade_scores (platform_id, course_id, state);
CREATE INDEX grade_scores_state ON grade_scores (state, updated_at);

-- The LMS line item each graded activity reports to, once found or created.
CREATE TABLE grade_line_items (
    platform_id   TEXT NOT NULL,
    link_id       TEXT NOT NULL,
    url           TEXT NOT NULL,
    score_maximum DOUBLE PRECISION NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, link_id),
    FOREIGN KEY (platform_id, link_id) REFERENCES resource_links(platform_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE grade_line_items;
DROP TABLE grade_scores;
