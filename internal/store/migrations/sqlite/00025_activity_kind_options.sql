-- +goose Up
-- An activity's kind owns its own settings (package activity): they move
-- from columns every activity had into options, a JSON document the kind
-- reads and validates. What stays a column is what every kind has:
-- instructions, cohort policy, group size, graded, points. The discussion
-- kinds' document: allow_anonymous, post_first, rule (min_threads,
-- min_replies, min_accepted, min_upvotes) and credit.
-- Each table is made anew and copied: fourteen DROP COLUMNs each re-check
-- the whole schema, which tripled the time a fresh database takes to
-- migrate.
CREATE TABLE activity_settings_new (
    platform_id     TEXT NOT NULL,
    link_id         TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'discussion',
    instructions    TEXT NOT NULL DEFAULT '',
    -- course | section | groups
    cohort_policy   TEXT NOT NULL DEFAULT 'course',
    group_size      INTEGER NOT NULL DEFAULT 12,
    graded          BOOLEAN NOT NULL DEFAULT FALSE,
    points          INTEGER NOT NULL DEFAULT 10,
    configured      BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by      TEXT NOT NULL DEFAULT '',
    updated_at      DATETIME NOT NULL,
    options         TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (platform_id, link_id),
    FOREIGN KEY (platform_id, link_id) REFERENCES resource_links(platform_id, id) ON DELETE CASCADE
);
INSERT INTO activity_settings_new (platform_id, link_id, kind, instructions, cohort_policy, group_size, graded, points,
        configured, updated_by, updated_at, options)
    SELECT platform_id, link_id, kind, instructions, cohort_policy, group_size, graded, points, configured, updated_by, updated_at,
        json_object(
            'allow_anonymous', json(CASE WHEN allow_anonymous THEN 'true' ELSE 'false' END),
            'post_first', json(CASE WHEN post_first THEN 'true' ELSE 'false' END),
            'rule', json_object('min_threads', min_threads, 'min_replies', min_replies, 'min_accepted', min_accepted, 'min_upvotes', min_upvotes),
            'credit', credit)
    FROM activity_settings;
DROP TABLE activity_settings;
ALTER TABLE activity_settings_new RENAME TO activity_settings;

-- A placement holds the settings its links take: the same document.
CREATE TABLE placements_new (
    platform_id     TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    -- The course it was placed from: the LMS's deployment and context id.
    deployment_id   TEXT NOT NULL,
    context_key     TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    instructions    TEXT NOT NULL DEFAULT '',
    cohort_policy   TEXT NOT NULL,
    group_size      INTEGER NOT NULL,
    graded          BOOLEAN NOT NULL,
    points          INTEGER NOT NULL,
    -- The LMS user id (sub) of the staff member who placed it.
    created_by      TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    options         TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (platform_id, id)
);
INSERT INTO placements_new (platform_id, id, deployment_id, context_key, title, kind, instructions, cohort_policy, group_size,
        graded, points, created_by, created_at, options)
    SELECT platform_id, id, deployment_id, context_key, title, kind, instructions, cohort_policy, group_size, graded, points,
        created_by, created_at,
        json_object(
            'allow_anonymous', json(CASE WHEN allow_anonymous THEN 'true' ELSE 'false' END),
            'post_first', json(CASE WHEN post_first THEN 'true' ELSE 'false' END),
            'rule', json_object('min_threads', min_threads, 'min_replies', min_replies, 'min_accepted', min_accepted, 'min_upvotes', min_upvotes),
            'credit', credit)
    FROM placements;
DROP TABLE placements;
ALTER TABLE placements_new RENAME TO placements;

-- +goose Down
-- Only the discussion kinds existed before: their documents go back into
-- the columns.
ALTER TABLE activity_settings ADD COLUMN allow_anonymous BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE activity_settings ADD COLUMN post_first BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE activity_settings ADD COLUMN min_threads INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity_settings ADD COLUMN min_replies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity_settings ADD COLUMN min_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity_settings ADD COLUMN min_upvotes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE activity_settings ADD COLUMN credit TEXT NOT NULL DEFAULT 'full';
UPDATE activity_settings SET
    allow_anonymous = COALESCE(json_extract(options, '$.allow_anonymous'), 1),
    post_first = COALESCE(json_extract(options, '$.post_first'), 0),
    min_threads = COALESCE(json_extract(options, '$.rule.min_threads'), 0),
    min_replies = COALESCE(json_extract(options, '$.rule.min_replies'), 0),
    min_accepted = COALESCE(json_extract(options, '$.rule.min_accepted'), 0),
    min_upvotes = COALESCE(json_extract(options, '$.rule.min_upvotes'), 0),
    credit = COALESCE(json_extract(options, '$.credit'), 'full');
ALTER TABLE activity_settings DROP COLUMN options;

ALTER TABLE placements ADD COLUMN allow_anonymous BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE placements ADD COLUMN post_first BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE placements ADD COLUMN min_threads INTEGER NOT NULL DEFAULT 0;
ALTER TABLE placements ADD COLUMN min_replies INTEGER NOT NULL DEFAULT 0;
ALTER TABLE placements ADD COLUMN min_accepted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE placements ADD COLUMN min_upvotes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE placements ADD COLUMN credit TEXT NOT NULL DEFAULT 'full';
UPDATE placements SET
    allow_anonymous = COALESCE(json_extract(options, '$.allow_anonymous'), 1),
    post_first = COALESCE(json_extract(options, '$.post_first'), 0),
    min_threads = COALESCE(json_extract(options, '$.rule.min_threads'), 0),
    min_replies = COALESCE(json_extract(options, '$.rule.min_replies'), 0),
    min_accepted = COALESCE(json_extract(options, '$.rule.min_accepted'), 0),
    min_upvotes = COALESCE(json_extract(options, '$.rule.min_upvotes'), 0),
    credit = COALESCE(json_extract(options, '$.credit'), 'full');
ALTER TABLE placements DROP COLUMN options;
