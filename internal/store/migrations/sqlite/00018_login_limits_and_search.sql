-- +goose Up
-- A platform's last refused login or launch is kept as a typed reason (an
-- lti.Reason code) apart from the values its request carried: last_error
-- now holds only those values, which the console labels as the request's
-- words. Earlier rows wrote "reason: detail" in last_error, the detail
-- mixing Roundtable's words with whatever the request sent: keep the
-- reason, drop the detail.
ALTER TABLE platforms ADD COLUMN last_error_reason TEXT NOT NULL DEFAULT '';
UPDATE platforms SET last_error_reason = CASE WHEN instr(last_error, ':') > 0 THEN substr(last_error, 1, instr(last_error, ':') - 1) ELSE '' END,
    last_error = ''
    WHERE last_error <> '';

-- Login initiation stops at a bound on each platform's unexpired login
-- states; this index counts them (and serves the platform's delete).
CREATE INDEX login_states_platform ON login_states (platform_id, expires_at);

-- Full-text search reads only the searched space's posts: every document
-- of the index carries its space's word (discussion.spaceWord: "sp", then
-- the platform's, activity's and cohort's ids without hyphens, joined by
-- "x") in a column of its own, and a search asks for that word and its
-- terms together, so the index never yields another space's posts, however
-- many of them hold the terms. The index is rebuilt with the new column.
DROP TRIGGER threads_search_title;
DROP TRIGGER posts_search_delete;
DROP TRIGGER posts_search_update;
DROP TRIGGER posts_search_insert;
DROP TABLE post_fts;
DROP VIEW post_search_docs;
CREATE VIEW post_search_docs AS
    SELECT m.rid AS rid, CASE WHEN p.opening THEN t.title ELSE '' END AS title, p.body AS body,
        'sp' || replace(p.platform_id, '-', '') || 'x' || replace(p.link_id, '-', '') || 'x' || replace(p.cohort_id, '-', '') AS space
    FROM post_search_ids m
    JOIN posts p ON p.platform_id = m.platform_id AND p.id = m.post_id
    JOIN threads t ON t.platform_id = p.platform_id AND t.id = p.thread_id;
CREATE VIRTUAL TABLE post_fts USING fts5(title, body, space, content='post_search_docs', content_rowid='rid',
    tokenize='unicode61 remove_diacritics 2');

-- +goose StatementBegin
CREATE TRIGGER posts_search_insert AFTER INSERT ON posts BEGIN
    INSERT INTO post_search_ids (platform_id, post_id) VALUES (new.platform_id, new.id);
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = new.platform_id AND id = new.thread_id), '') ELSE '' END, new.body,
        'sp' || replace(new.platform_id, '-', '') || 'x' || replace(new.link_id, '-', '') || 'x' || replace(new.cohort_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = new.platform_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_update AFTER UPDATE OF body, opening ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = old.platform_id AND id = old.thread_id), '') ELSE '' END, old.body,
        'sp' || replace(old.platform_id, '-', '') || 'x' || replace(old.link_id, '-', '') || 'x' || replace(old.cohort_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = old.platform_id AND m.post_id = old.id;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, CASE WHEN new.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = new.platform_id AND id = new.thread_id), '') ELSE '' END, new.body,
        'sp' || replace(new.platform_id, '-', '') || 'x' || replace(new.link_id, '-', '') || 'x' || replace(new.cohort_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = new.platform_id AND m.post_id = new.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER posts_search_delete AFTER DELETE ON posts BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, CASE WHEN old.opening THEN COALESCE((SELECT title FROM threads WHERE platform_id = old.platform_id AND id = old.thread_id), '') ELSE '' END, old.body,
        'sp' || replace(old.platform_id, '-', '') || 'x' || replace(old.link_id, '-', '') || 'x' || replace(old.cohort_id, '-', '')
    FROM post_search_ids m WHERE m.platform_id = old.platform_id AND m.post_id = old.id;
    DELETE FROM post_search_ids WHERE platform_id = old.platform_id AND post_id = old.id;
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER threads_search_title AFTER UPDATE OF title ON threads WHEN old.title IS NOT new.title BEGIN
    INSERT INTO post_fts (post_fts, rowid, title, body, space)
    SELECT 'delete', m.rid, old.title, p.body, 'sp' || replace(p.platform_id, '-', '') || 'x' || replace(p.link_id, '-', '') || 'x' || replace(p.cohort_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.platform_id = p.platform_id AND m.post_id = p.id
    WHERE p.platform_id = old.platform_id AND p.id = old.opening_post_id AND p.opening;
    INSERT INTO post_fts (rowid, title, body, space)
    SELECT m.rid, new.title, p.body, 'sp' || replace(p.platform_id, '-', '') || 'x' || replace(p.link_id, '-', '') || 'x' || replace(p.cohort_id, '-', '')
    FROM posts p JOIN post_search_ids m ON m.platform_id = p.platform_id AND m.post_id = p.id
    WHERE p.platform_id = new.platform_id AND p.id = new.opening_post_id AND p.opening;
END;
-- +goose StatementEnd
INSERT INTO post_fts (post_fts) VALUES ('rebuild');

-- +goose Down
DROP INDEX login_states_platform;
ALTER TABLE platforms DROP COLUMN last_error_reason;
DROP TRIGGER threads_search_title;
DROP TRIGGER posts_search_delete;
DROP TRIGGER posts_search_update;
DROP TRIGGER posts_search_insert;
DROP TABLE post_fts;
DROP VIEW post_search_docs;
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

INSERT INTO post_fts (post_fts) VALUES ('rebuild');
