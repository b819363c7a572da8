-- +goose Up
-- The LMS's names lead the unique keys of people and cohorts, org_id
-- last, as on Postgres (see the Postgres migration of the same number for
-- why). SQLite changes a table's keys by copying the table; neither has a
-- foreign key pointing at it since 00029.
CREATE TABLE users_rekeyed (
    org_id          TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    given_name      TEXT NOT NULL DEFAULT '',
    family_name     TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    picture         TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    pseudonym       TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (issuer, subject, org_id)
);
INSERT INTO users_rekeyed (org_id, id, issuer, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at)
    SELECT org_id, id, issuer, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_rekeyed RENAME TO users;

CREATE TABLE cohorts_rekeyed (
    org_id          TEXT NOT NULL,
    id              TEXT NOT NULL,
    course_id       TEXT NOT NULL,
    cohort_key      TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    -- Kept by the launch that adds a member, so pages need not count.
    member_count    INTEGER NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (course_id, cohort_key, org_id),
    FOREIGN KEY (org_id, course_id) REFERENCES courses (org_id, id) ON DELETE CASCADE
);
INSERT INTO cohorts_rekeyed (org_id, id, course_id, cohort_key, name, member_count, created_at)
    SELECT org_id, id, course_id, cohort_key, name, member_count, created_at FROM cohorts;
DROP TABLE cohorts;
ALTER TABLE cohorts_rekeyed RENAME TO cohorts;

-- +goose Down
CREATE TABLE users_rekeyed (
    org_id          TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    subject         TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    given_name      TEXT NOT NULL DEFAULT '',
    family_name     TEXT NOT NULL DEFAULT '',
    email           TEXT NOT NULL DEFAULT '',
    picture         TEXT NOT NULL DEFAULT '',
    locale          TEXT NOT NULL DEFAULT '',
    pseudonym       TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, issuer, subject)
);
INSERT INTO users_rekeyed (org_id, id, issuer, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at)
    SELECT org_id, id, issuer, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at FROM users;
DROP TABLE users;
ALTER TABLE users_rekeyed RENAME TO users;

CREATE TABLE cohorts_rekeyed (
    org_id          TEXT NOT NULL,
    id              TEXT NOT NULL,
    course_id       TEXT NOT NULL,
    cohort_key      TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    -- Kept by the launch that adds a member, so pages need not count.
    member_count    INTEGER NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, course_id, cohort_key),
    FOREIGN KEY (org_id, course_id) REFERENCES courses (org_id, id) ON DELETE CASCADE
);
INSERT INTO cohorts_rekeyed (org_id, id, course_id, cohort_key, name, member_count, created_at)
    SELECT org_id, id, course_id, cohort_key, name, member_count, created_at FROM cohorts;
DROP TABLE cohorts;
ALTER TABLE cohorts_rekeyed RENAME TO cohorts;
