-- +goose Up
-- A platform's last refused login or launch is kept as a typed reason (an
-- lti.Reason code) apart from the values its request carried: last_error
-- now holds only those values, which the console labels as the request's
-- words. Earlier rows wrote "reason: detail" in last_error, the detail
-- mixing Roundtable's words with whatever the request sent: keep the
-- reason, drop the detail.
ALTER TABLE platforms ADD COLUMN last_error_reason TEXT NOT NULL DEFAULT '';
UPDATE platforms SET last_error_reason = CASE WHEN position(':' in last_error) > 0 THEN left(last_error, position(':' in last_error) - 1) ELSE '' END,
    last_error = ''
    WHERE last_error <> '';

-- Login initiation stops at a bound on each platform's unexpired login
-- states; this index counts them (and serves the platform's delete).
CREATE INDEX login_states_platform ON login_states (platform_id, expires_at);

-- Full-text search reads only the searched space's posts: this index holds
-- each post's document with its space's word (discussion.spaceWord: "sp",
-- then the platform's, activity's and cohort's ids without hyphens, joined
-- by "x"), and a search matches its terms and that word together on the
-- same expression (discussion.pgSpaceDocument), so the index never yields
-- another space's posts, however many of them hold the terms. It replaces
-- the index of documents alone.
CREATE INDEX posts_space_search ON posts USING GIN ((search || array_to_tsvector(ARRAY['sp' || replace(platform_id, '-', '') || 'x' || replace(link_id, '-', '') || 'x' || replace(cohort_id, '-', '')])));
DROP INDEX posts_search;

-- +goose Down
DROP INDEX login_states_platform;
ALTER TABLE platforms DROP COLUMN last_error_reason;
CREATE INDEX posts_search ON posts USING GIN (search);
DROP INDEX posts_space_search;
