-- +goose Up
-- What LTI Dynamic Registration tells about a platform: how it was
-- registered, the scopes its administrator actually granted (space
-- separated, as in OAuth), the LMS version it reported, and the URL where
-- the platform lets the tool read or change its registration.
ALTER TABLE platforms ADD COLUMN registered_by TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE platforms ADD COLUMN scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE platforms ADD COLUMN product_version TEXT NOT NULL DEFAULT '';
ALTER TABLE platforms ADD COLUMN registration_client_uri TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE platforms DROP COLUMN registration_client_uri;
ALTER TABLE platforms DROP COLUMN product_version;
ALTER TABLE platforms DROP COLUMN scopes;
ALTER TABLE platforms DROP COLUMN registered_by;
