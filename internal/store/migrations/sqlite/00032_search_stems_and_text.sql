-- +goose Up
-- Search finds the other forms of a word ("merging" finds "merge" and
-- "merged"): the index's tokenizer stems words with the Porter stemmer,
-- which knows English only (Postgres uses its 'english' configuration).
-- The stemmer also reads the space's word, in documents and queries
-- alike, so a space's posts still carry the word its searches ask for;
-- searches also name the spaces' ids outright.
--
-- A post's document and excerpts are its text as readers see it, without
-- the Markdown that wrote it: body_text holds that text, written by
-- Roundtable with the body. Existing posts have none yet (NULL): their
-- body stands in until Roundtable fills body_text at its next start
-- (discussion.Store.FillBodyText), which re-indexes each post.
ALTER TABLE posts ADD COLUMN body_text TEXT;

DROP TRIGGER threads_search_title;
DROP TRIGGER posts_search_delete;
DROP TRIGGER posts_search_update;
DROP TRIGGER posts_search_insert;
DROP TABLE post_fts;
DROP VIEW post_search_docs;
CREATE VIEW post_search_docs AS
    SELECT m.rid AS rid, CASE WHEN p.opening THEN t.title ELSE '' END AS title, COALESCE(p.body_text, p.body) AS body,
        'sp' || replace(p.space_id, '-', '') AS space
    FROM post_search_ids m
    JOIN posts p ON p.org_id = m.org_id AND p.id = m.post_id
    JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id;
CREATE VIRTUAL TABLE post_fts USING fts5(title, body, space, content='post_search_docs', content_rowid='rid',
    tokenize='porter unicode61 remove_diacritics 2');

-- +goose StatementBegin
CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_search_ids (org_id, post_id) VALUES (new.org_id, new.id);
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE org_id = new.org_id AND id = new.thread_id), '') ELSE '' END, COALESCE(new.body_text, new.body),
        'sp' || replace(new.space_id, '-', '')
    FROM post_search_ids m WHERE m.org_id = new.org_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_update AFTER UPDATE OF body, body_text, opening ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE org_id = old.org_id AND id = old.thread_id), '') ELSE '' END, COALESCE(old.body_text, old.body),
        'sp' || replace(old.space_id, '-', '')
    FROM post_search_ids m WHERE m.org_id = old.org_id AND m.post_id = old.id;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE org_id = new.org_id AND id = new.thread_id), '') ELSE '' END, COALESCE(new.body_text, new.body),
        'sp' || replace(new.space_id, '-', '')
    FROM post_search_ids m WHERE m.org_id = new.org_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE org_id = old.org_id AND id = old.thread_id), '') ELSE '' END, COALESCE(old.body_text, old.body),
        'sp' || replace(old.space_id, '-', '')
    FROM post_search_ids m WHERE m.org_id = old.org_id AND m.post_id = old.id;
    DELETE FROM post_search_ids WHERE org_id = old.org_id AND post_id = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER threads_search_title AFTER UPDATE OF title ON threads WHEN old.title IS NOT new.title BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, old.title, COALESCE(p.body_text, p.body), 'sp' || replace(p.space_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.org_id = p.org_id AND m.post_id = p.id
    WHERE p.org_id = old.org_id AND p.id = old.opening_post_id AND p.opening;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, new.title, COALESCE(p.body_text, p.body), 'sp' || replace(p.space_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.org_id = p.org_id AND m.post_id = p.id
    WHERE p.org_id = new.org_id AND p.id = new.opening_post_id AND p.opening;
END;
-- +goose StatementEnd
INSERT INTO post_fts (post_fts) VALUES ('rebuild');

-- +goose Down
DROP TRIGGER threads_search_title;
DROP TRIGGER posts_search_delete;
DROP TRIGGER posts_search_update;
DROP TRIGGER posts_search_insert;
DROP TABLE post_fts;
DROP VIEW post_search_docs;
CREATE VIEW post_search_docs AS
    SELECT m.rid AS rid, CASE WHEN p.opening THEN t.title ELSE '' END AS title, p.body AS body,
        'sp' || replace(p.space_id, '-', '') AS space
    FROM post_search_ids m
    JOIN posts p ON p.org_id = m.org_id AND p.id = m.post_id
    JOIN threads t ON t.org_id = p.org_id AND t.id = p.thread_id;
CREATE VIRTUAL TABLE post_fts USING fts5(title, body, space, content='post_search_docs', content_rowid='rid',
    tokenize='unicode61 remove_diacritics 2');

-- +goose StatementBegin
CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_search_ids (org_id, post_id) VALUES (new.org_id, new.id);
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE org_id = new.org_id AND id = new.thread_id), '') ELSE '' END, new.body,
        'sp' || replace(new.space_id, '-', '')
    FROM post_search_ids m WHERE m.org_id = new.org_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_update AFTER UPDATE OF body, opening ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE org_id = old.org_id AND id = old.thread_id), '') ELSE '' END, old.body,
        'sp' || replace(old.space_id, '-', '')
    FROM post_search_ids m WHERE m.org_id = old.org_id AND m.post_id = old.id;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE org_id = new.org_id AND id = new.thread_id), '') ELSE '' END, new.body,
        'sp' || replace(new.space_id, '-', '')
    FROM post_search_ids m WHERE m.org_id = new.org_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE org_id = old.org_id AND id = old.thread_id), '') ELSE '' END, old.body,
        'sp' || replace(old.space_id, '-', '')
    FROM post_search_ids m WHERE m.org_id = old.org_id AND m.post_id = old.id;
    DELETE FROM post_search_ids WHERE org_id = old.org_id AND post_id = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER threads_search_title AFTER UPDATE OF title ON threads WHEN old.title IS NOT new.title BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, old.title, p.body, 'sp' || replace(p.space_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.org_id = p.org_id AND m.post_id = p.id
    WHERE p.org_id = old.org_id AND p.id = old.opening_post_id AND p.opening;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, new.title, p.body, 'sp' || replace(p.space_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.org_id = p.org_id AND m.post_id = p.id
    WHERE p.org_id = new.org_id AND p.id = new.opening_post_id AND p.opening;
END;
-- +goose StatementEnd
INSERT INTO post_fts (post_fts) VALUES ('rebuild');
ALTER TABLE posts DROP COLUMN body_text;
