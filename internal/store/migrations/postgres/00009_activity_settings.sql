-- +goose Up
-- What instructors chose for an activity (a resource link): its kind,
-- instructions, how learners are split into cohorts, posting options, and
-- how it is graded. A link without a row uses the defaults of
-- course.DefaultSettings; configured is false until staff save the form
-- (or a deep-linking placement fills it).
CREATE TABLE activity_settings (
    platform_id     TEXT NOT NULL,
    link_id         TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'discussion',
    instructions    TEXT NOT NULL DEFAULT '',
    -- course | section | groups
    cohort_policy   TEXT NOT NULL DEFAULT 'course',
    group_size      INTEGER NOT NULL DEFAULT 12,
    allow_anonymous BOOLEAN NOT NULL DEFAULT TRUE,
    post_first      BOOLEAN NOT NULL DEFAULT FALSE,
    graded          BOOLEAN NOT NULL DEFAULT FALSE,
    points          INTEGER NOT NULL DEFAULT 10,
    -- Completion rule: every non-zero minimum must be met.
    min_threads     INTEGER NOT NULL DEFAULT 0,
    min_replies     INTEGER NOT NULL DEFAULT 0,
    min_accepted    INTEGER NOT NULL DEFAULT 0,
    min_upvotes     INTEGER NOT NULL DEFAULT 0,
    -- full | proportional
    credit          TEXT NOT NULL DEFAULT 'full',
    configured      BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by      TEXT NOT NULL DEFAULT '',
    updated_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, link_id),
    FOREIGN KEY (platform_id, link_id) REFERENCES resource_links(platform_id, id) ON DELETE CASCADE
);

-- +goose Down
DROP TABLE activity_settings;
