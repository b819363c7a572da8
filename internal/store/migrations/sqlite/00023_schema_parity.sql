-- +goose Up
-- The two dialects hold the same indexes (store/schema_test.go checks it):
-- the index of duplicate threads holds only threads marked as duplicates,
-- as it always has on Postgres; the queries that read it say
-- duplicate_of <> '' so SQLite can use the partial index too.
DROP INDEX threads_duplicate_of;
CREATE INDEX threads_duplicate_of ON threads (platform_id, duplicate_of) WHERE duplicate_of <> '';

-- +goose Down
DROP INDEX threads_duplicate_of;
CREATE INDEX threads_duplicate_of ON threads (platform_id, duplicate_of);
