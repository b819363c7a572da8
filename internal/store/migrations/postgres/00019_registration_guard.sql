-- +goose Up
-- The scopes an LMS names when it answers a dynamic registration are what
-- it announced (Canvas answers the scopes asked for, plus openid, before
-- any review), not what its administrator granted. What is granted shows
-- in the LMS's token answers, kept in granted_scopes as they arrive.
ALTER TABLE platforms RENAME COLUMN scopes TO announced_scopes;
ALTER TABLE platforms ADD COLUMN granted_scopes TEXT NOT NULL DEFAULT '';
ALTER TABLE platforms ADD COLUMN scopes_granted_at TIMESTAMPTZ;
-- Dynamic registrations of the last hour are counted before each new one,
-- and pending ones expire.
CREATE INDEX platforms_registered ON platforms (registered_by, created_at);

-- Registrations that failed, with what the LMS answered: an unauthenticated
-- visitor sees only Roundtable's words and the reference, administrators
-- see the rest in the console. Old rows are pruned.
CREATE TABLE registration_failures (
    id                   TEXT PRIMARY KEY,
    reference            TEXT NOT NULL,
    created_at           TIMESTAMPTZ NOT NULL,
    client_ip            TEXT NOT NULL DEFAULT '',
    openid_configuration TEXT NOT NULL DEFAULT '',
    reason               TEXT NOT NULL,
    message              TEXT NOT NULL,
    detail               TEXT NOT NULL DEFAULT '',
    answer_status        INTEGER NOT NULL DEFAULT 0,
    answer_said          TEXT NOT NULL DEFAULT '',
    answer_body          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX registration_failures_created ON registration_failures (created_at);

-- +goose Down
DROP TABLE registration_failures;
DROP INDEX platforms_registered;
ALTER TABLE platforms DROP COLUMN scopes_granted_at;
ALTER TABLE platforms DROP COLUMN granted_scopes;
ALTER TABLE platforms RENAME COLUMN announced_scopes TO scopes;
