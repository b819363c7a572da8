-- +goose Up
-- The two dialects hold the same indexes (store/schema_test.go checks it).
-- Postgres has had the partial index of duplicate threads that SQLite gets
-- in this version since 00006: nothing changes here.

-- +goose Down
