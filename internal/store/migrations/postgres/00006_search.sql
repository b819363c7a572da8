-- +goose Up
-- Duplicates: a thread staff marked as a duplicate names its original
-- (never a duplicate itself: marking re-points to the original's original).
ALTER TABLE threads ADD COLUMN duplicate_of TEXT NOT NULL DEFAULT '';
CREATE INDEX threads_duplicate_of ON threads (platform_id, duplicate_of) WHERE duplicate_of <> '';

-- Full-text search over posts: a tsvector kept by a trigger, the thread's
-- title (weight A) for an opening post and the body (weight B). The
-- 'simple' configuration stems nothing and drops no stop words, so it
-- works the same for every language a course is taught in. Its parser
-- reads "<...>" as an HTML tag and skips the words inside (a post with
-- "x<y and z>w" would lose "y and z"), so < and > become private-use
-- characters first; search.go does the same for ts_headline.
ALTER TABLE posts ADD COLUMN search tsvector;

-- +goose StatementBegin
CREATE FUNCTION posts_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := setweight(to_tsvector('simple', translate(CASE WHEN NEW.opening THEN
            COALESCE((SELECT title FROM threads WHERE platform_id = NEW.platform_id AND id = NEW.thread_id), '') ELSE '' END, '<>', U&'\E002\E003')), 'A')
        || setweight(to_tsvector('simple', translate(NEW.body, '<>', U&'\E002\E003')), 'B');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER posts_search BEFORE INSERT OR UPDATE OF body, opening ON posts
    FOR EACH ROW EXECUTE FUNCTION posts_search_document();

-- A new title re-indexes the opening post (naming body fires its trigger).
-- +goose StatementBegin
CREATE FUNCTION threads_search_title() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts SET body = body WHERE platform_id = NEW.platform_id AND id = NEW.opening_post_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER threads_search_title AFTER UPDATE OF title ON threads
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title) EXECUTE FUNCTION threads_search_title();

UPDATE posts SET body = body;
CREATE INDEX posts_search ON posts USING GIN (search);

-- +goose Down
DROP INDEX posts_search;
DROP TRIGGER threads_search_title ON threads;
DROP FUNCTION threads_search_title();
DROP TRIGGER posts_search ON posts;
DROP FUNCTION posts_search_document();
ALTER TABLE posts DROP COLUMN search;
DROP INDEX threads_duplicate_of;
ALTER TABLE threads DROP COLUMN duplicate_of;
