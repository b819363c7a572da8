-- +goose Up
-- A link to a thread opened without a session names the activity and
-- course to open it from: the activity is found by its id alone.
CREATE UNIQUE INDEX resource_links_id ON resource_links (id);

-- +goose Down
DROP INDEX resource_links_id;
