-- +goose Up
-- Files and images people upload into a space's discussion. The bytes are
-- in the blob store under blob_key; the id, random and unguessable, is what
-- a post's Markdown names (/files/<id>/<name>), so that a URL says nothing
-- of who uploaded it. post_id is the post the file ended up in, when known.
CREATE TABLE attachments (
    org_id       TEXT NOT NULL,
    id           TEXT NOT NULL,
    space_id     TEXT NOT NULL,
    cohort_id    TEXT NOT NULL,
    uploader_id  TEXT NOT NULL,
    blob_key     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    name         TEXT NOT NULL,
    post_id      TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    PRIMARY KEY (org_id, id)
);
-- A person's uploads of the last day, for their quota.
CREATE INDEX attachments_uploader_recent ON attachments (org_id, uploader_id, created_at);

-- +goose Down
DROP TABLE attachments;
