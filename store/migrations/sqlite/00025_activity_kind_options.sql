-- +goose Up
-- An activity's kind owns its own settings (package activity): they move
-- from columns every activity had into options, a JSON document the kind
-- reads and validates. What stays a column is what every kind has:
-- instructions, cohort policy, group size, graded, points. The discussion
-- kinds' document: allow_anonymous, post_first, rule (min_threads,
-- min_replies, min_accepted, min_upvotes) and credit.
ALTER TABLE activity_settings ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
UPDATE activity_settings SET options = json_object(
    'allow_anonymous', json(CASE WHEN allow_anonymous THEN 'true' ELSE 'false' END),
    'post_first', json(CASE WHEN post_first THEN 'true' ELSE 'false' END),
    'rule', json_object('min_threads', min_threads, 'min_replies', min_replies, 'min_accepted', min_accepted, 'min_upvotes', min_upvotes),
    'credit', credit);
ALTER TABLE activity_settings DROP COLUMN allow_anonymous;
ALTER TABLE activity_settings DROP COLUMN post_first;
ALTER TABLE activity_settings DROP COLUMN min_threads;
ALTER TABLE activity_settings DROP COLUMN min_replies;
ALTER TABLE activity_settings DROP COLUMN min_accepted;
ALTER TABLE activity_settings DROP COLUMN min_upvotes;
ALTER TABLE activity_settings DROP COLUMN credit;

-- A placement holds the settings its links take: the same document.
ALTER TABLE placements ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
UPDATE placements SET options = json_object(
    'allow_anonymous', json(CASE WHEN allow_anonymous THEN 'true' ELSE 'false' END),
    'post_first', json(CASE WHEN post_first THEN 'true' ELSE 'false' END),
    'rule', json_object('min_threads', min_threads, 'min_replies', min_replies, 'min_accepted', min_accepted, 'min_upvotes', min_upvotes),
    'credit', credit);
ALTER TABLE placements DROP COLUMN allow_anonymous;
ALTER TABLE placements DROP COLUMN post_first;
ALTER TABLE placements DROP COLUMN min_threads;
ALTER TABLE placements DROP COLUMN min_replies;
ALTER TABLE placements DROP COLUMN min_accepted;
ALTER TABLE placements DROP COLUMN min_upvotes;
ALTER TABLE placements DROP COLUMN credit;

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
