-- +goose Up
-- Duplicates: a thread staff marked as a duplicate names its original
-- (never a duplicate itself: marking re-points to the original's original).
ALTER TABLE threads ADD COLUMN duplicate_of TEXT NOT NULL DEFAULT '';
CREATE INDEX threads_duplicate_of ON threads (platform_id, duplicate_of);

-- Full-text search over posts: an FTS5 external-content table whose
-- documents are a post's body and, for an opening post, its thread's title.
-- posts has no INTEGER PRIMARY KEY, so VACUUM may renumber its rowids:
-- post_search_ids gives each post a stable integer id for the index.
CREATE TABLE post_search_ids (
    rid         INTEGER PRIMARY KEY,
    platform_id TEXT NOT NULL,
    post_id     TEXT NOT NULL,
    UNIQUE (platform_id, post_id)
);
CREATE VIEW post_search_docs AS
    SELECT m.rid AS rid, CASE WHEN p.opening THEN t.title ELSE '' END AS title, p.body AS body
    FROM post_search_ids m
    JOIN posts p ON p.platform_id = m.platform_id AND p.id = m.post_id
    JOIN threads t ON t.platform_id = p.platform_id AND t.id = p.thread_id;
CREATE VIRTUAL TABLE post_fts USING fts5(title, body, content='post_search_docs', content_rowid='rid',
    tokenize='unicode61 remove_diacritics 2');

-- The triggers hand the index exactly the text it holds when they remove a
-- document ('delete' needs the old values), so it never drifts.
-- +goose StatementBegin
CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_search_ids (platform_id, post_id) VALUES (new.platform_id, new.id);
    INSERT INTO post_fts (rowid, title, body)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = new.platform_id AND id = new.thread_id), '') ELSE '' END, new.body
    FROM post_search_ids m WHERE m.platform_id = new.platform_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_update AFTER UPDATE OF body, opening ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = old.platform_id AND id = old.thread_id), '') ELSE '' END, old.body
    FROM post_search_ids m WHERE m.platform_id = old.platform_id AND m.post_id = old.id;
    INSERT INTO post_fts (rowid, title, body)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = new.platform_id AND id = new.thread_id), '') ELSE '' END, new.body
    FROM post_search_ids m WHERE m.platform_id = new.platform_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = old.platform_id AND id = old.thread_id), '') ELSE '' END, old.body
    FROM post_search_ids m WHERE m.platform_id = old.platform_id AND m.post_id = old.id;
    DELETE FROM post_search_ids WHERE platform_id = old.platform_id AND post_id = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER threads_search_title AFTER UPDATE OF title ON threads WHEN old.title IS NOT new.title BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body)
    SELECT 'delete', m.rid, old.title, p.body
    FROM posts p JOIN post_search_ids m ON m.platform_id = p.platform_id AND m.post_id = p.id
    WHERE p.platform_id = old.platform_id AND p.id = old.opening_post_id AND p.opening;
    INSERT INTO post_fts (rowid, title, body)
    SELECT m.rid, new.title, p.body
    FROM posts p JOIN post_search_ids m ON m.platform_id = p.platform_id AND m.post_id = p.id
    WHERE p.platform_id = new.platform_id AND p.id = new.opening_post_id AND p.opening;
END;
-- +goose StatementEnd

INSERT INTO post_search_ids (platform_id, post_id) SELECT platform_id, id FROM posts ORDER BY platform_id, id;
INSERT INTO post_fts (post_fts) VALUES ('rebuild');

-- +goose Down
DROP TRIGGER threads_search_title;
DROP TRIGGER posts_search_delete;
DROP TRIGGER posts_search_update;
DROP TRIGGER posts_search_insert;
DROP TABLE post_fts;
DROP VIEW post_search_docs;
DROP TABLE post_search_ids;
DROP INDEX threads_duplicate_of;
ALTER TABLE threads DROP COLUMN duplicate_of;
