-- +goose Up
-- Search finds the other forms of a word ("merging" finds "merge" and
-- "merged"): documents and queries go through the 'english' text search
-- configuration, which stems words and drops stop words, in place of
-- 'simple'. Courses carry no language of their own yet, so every course
-- uses English (discussion.SearchLanguage says so in one place).
--
-- A post's document and excerpts are its text as readers see it, without
-- the Markdown that wrote it: body_text holds that text, written by
-- Roundtable with the body. Existing posts have none yet (NULL): their
-- body stands in until Roundtable fills body_text at its next start
-- (discussion.Store.FillBodyText), which re-indexes each post.
ALTER TABLE posts ADD COLUMN body_text TEXT;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION posts_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := setweight(to_tsvector('english', translate(CASE WHEN NEW.opening THEN
            COALESCE((SELECT title FROM threads WHERE org_id = NEW.org_id AND id = NEW.thread_id), '') ELSE '' END, '<>', U&'\E002\E003')), 'A')
        || setweight(to_tsvector('english', translate(COALESCE(NEW.body_text, NEW.body), '<>', U&'\E002\E003')), 'B');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
DROP TRIGGER posts_search ON posts;
CREATE TRIGGER posts_search BEFORE INSERT OR UPDATE OF body, body_text, opening ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_search_document();

-- Every document is written again with stems.
UPDATE posts SET body = body;

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION posts_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := setweight(to_tsvector('simple', translate(CASE WHEN NEW.opening THEN
            COALESCE((SELECT title FROM threads WHERE org_id = NEW.org_id AND id = NEW.thread_id), '') ELSE '' END, '<>', U&'\E002\E003')), 'A')
        || setweight(to_tsvector('simple', translate(NEW.body, '<>', U&'\E002\E003')), 'B');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
DROP TRIGGER posts_search ON posts;
CREATE TRIGGER posts_search BEFORE INSERT OR UPDATE OF body, opening ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_search_document();
ALTER TABLE posts DROP COLUMN body_text;
UPDATE posts SET body = body;
