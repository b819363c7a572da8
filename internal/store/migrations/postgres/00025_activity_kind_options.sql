-- +goose Up
-- An activity's kind owns its own settings (package activity): they move
-- from columns every activity had into options, a JSON document the kind
-- reads and validates. What stays a column is what every kind has:
-- instructions, cohort policy, group size, graded, points. The discussion
-- kinds' document: allow_anonymous, post_first, rule (min_threads,
-- min_replies, min_accepted, min_upvotes) and credit.
ALTER TABLE activity_settings ADD COLUMN options JSONB NOT NULL DEFAULT '{}';
UPDATE activity_settings SET options = jsonb_build_object(
    'allow_anonymous', allow_anonymous,
    'post_first', post_first,
    'rule', jsonb_build_object('min_threads', min_threads, 'min_replies', min_replies, 'min_accepted', min_accepted, 'min_upvotes', min_upvotes),
    'credit', credit);
ALTER TABLE activity_settings DROP COLUMN allow_anonymous, DROP COLUMN post_first, DROP COLUMN min_threads, DROP COLUMN min_replies,
    DROP COLUMN min_accepted, DROP COLUMN min_upvotes, DROP COLUMN credit;

-- A placement holds the settings its links take: the same document.
ALTER TABLE placements ADD COLUMN options JSONB NOT NULL DEFAULT '{}';
UPDATE placements SET options = jsonb_build_object(
    'allow_anonymous', allow_anonymous,
    'post_first', post_first,
    'rule', jsonb_build_object('min_threads', min_threads, 'min_replies', min_replies, 'min_accepted', min_accepted, 'min_upvotes', min_upvotes),
    'credit', credit);
ALTER TABLE placements DROP COLUMN allow_anonymous, DROP COLUMN post_first, DROP COLUMN min_threads, DROP COLUMN min_replies,
    DROP COLUMN min_accepted, DROP COLUMN min_upvotes, DROP COLUMN credit;

-- +goose Down
-- Only the discussion kinds existed before: their documents go back into
-- the columns.
ALTER TABLE activity_settings ADD COLUMN allow_anonymous BOOLEAN NOT NULL DEFAULT TRUE, ADD COLUMN post_first BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN min_threads INTEGER NOT NULL DEFAULT 0, ADD COLUMN min_replies INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN min_accepted INTEGER NOT NULL DEFAULT 0, ADD COLUMN min_upvotes INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN credit TEXT NOT NULL DEFAULT 'full';
UPDATE activity_settings SET
    allow_anonymous = COALESCE((options->>'allow_anonymous')::boolean, TRUE),
    post_first = COALESCE((options->>'post_first')::boolean, FALSE),
    min_threads = COALESCE((options->'rule'->>'min_threads')::integer, 0),
    min_replies = COALESCE((options->'rule'->>'min_replies')::integer, 0),
    min_accepted = COALESCE((options->'rule'->>'min_accepted')::integer, 0),
    min_upvotes = COALESCE((options->'rule'->>'min_upvotes')::integer, 0),
    credit = COALESCE(options->>'credit', 'full');
ALTER TABLE activity_settings DROP COLUMN options;

ALTER TABLE placements ADD COLUMN allow_anonymous BOOLEAN NOT NULL DEFAULT TRUE, ADD COLUMN post_first BOOLEAN NOT NULL DEFAULT FALSE,
    ADD COLUMN min_threads INTEGER NOT NULL DEFAULT 0, ADD COLUMN min_replies INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN min_accepted INTEGER NOT NULL DEFAULT 0, ADD COLUMN min_upvotes INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN credit TEXT NOT NULL DEFAULT 'full';
UPDATE placements SET
    allow_anonymous = COALESCE((options->>'allow_anonymous')::boolean, TRUE),
    post_first = COALESCE((options->>'post_first')::boolean, FALSE),
    min_threads = COALESCE((options->'rule'->>'min_threads')::integer, 0),
    min_replies = COALESCE((options->'rule'->>'min_replies')::integer, 0),
    min_accepted = COALESCE((options->'rule'->>'min_accepted')::integer, 0),
    min_upvotes = COALESCE((options->'rule'->>'min_upvotes')::integer, 0),
    credit = COALESCE(options->>'credit', 'full');
ALTER TABLE placements DROP COLUMN options;
