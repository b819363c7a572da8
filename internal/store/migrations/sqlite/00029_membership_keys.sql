-- +goose Up
-- Memberships and cohort memberships keep no foreign keys to their person,
-- course and cohort, as the discussion's tables keep none (see the
-- Postgres migration of the same number for why): Roundtable writes them
-- with the ids it has just read or written, and deleting an organisation
-- deletes them itself (tenant.orgTables). SQLite drops a key by copying
-- the table.
CREATE TABLE memberships_new (
    org_id          TEXT NOT NULL,
    course_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    roles           TEXT NOT NULL DEFAULT '',
    lti_roles       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'active',
    last_launch_at  DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    sections        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, course_id, user_id)
);
INSERT INTO memberships_new (org_id, course_id, user_id, roles, lti_roles, status, last_launch_at, created_at, updated_at, sections)
    SELECT org_id, course_id, user_id, roles, lti_roles, status, last_launch_at, created_at, updated_at, sections FROM memberships;
DROP TABLE memberships;
ALTER TABLE memberships_new RENAME TO memberships;
CREATE INDEX memberships_person ON memberships (org_id, user_id, course_id);

CREATE TABLE cohort_members_new (
    org_id          TEXT NOT NULL,
    cohort_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (org_id, cohort_id, user_id)
);
INSERT INTO cohort_members_new (org_id, cohort_id, user_id, created_at) SELECT org_id, cohort_id, user_id, created_at FROM cohort_members;
DROP TABLE cohort_members;
ALTER TABLE cohort_members_new RENAME TO cohort_members;
CREATE INDEX cohort_members_person ON cohort_members (org_id, user_id, cohort_id);

-- +goose Down
CREATE TABLE memberships_old (
    org_id          TEXT NOT NULL,
    course_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    roles           TEXT NOT NULL DEFAULT '',
    lti_roles       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'active',
    last_launch_at  DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    sections        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, course_id, user_id),
    FOREIGN KEY (org_id, course_id) REFERENCES courses (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
INSERT INTO memberships_old (org_id, course_id, user_id, roles, lti_roles, status, last_launch_at, created_at, updated_at, sections)
    SELECT m.org_id, m.course_id, m.user_id, m.roles, m.lti_roles, m.status, m.last_launch_at, m.created_at, m.updated_at, m.sections
    FROM memberships m
    WHERE EXISTS (SELECT 1 FROM users u WHERE u.org_id = m.org_id AND u.id = m.user_id)
        AND EXISTS (SELECT 1 FROM courses c WHERE c.org_id = m.org_id AND c.id = m.course_id);
DROP TABLE memberships;
ALTER TABLE memberships_old RENAME TO memberships;
CREATE INDEX memberships_person ON memberships (org_id, user_id, course_id);

CREATE TABLE cohort_members_old (
    org_id          TEXT NOT NULL,
    cohort_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (org_id, cohort_id, user_id),
    FOREIGN KEY (org_id, cohort_id) REFERENCES cohorts (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE
);
INSERT INTO cohort_members_old (org_id, cohort_id, user_id, created_at)
    SELECT m.org_id, m.cohort_id, m.user_id, m.created_at FROM cohort_members m
    WHERE EXISTS (SELECT 1 FROM users u WHERE u.org_id = m.org_id AND u.id = m.user_id)
        AND EXISTS (SELECT 1 FROM cohorts c WHERE c.org_id = m.org_id AND c.id = m.cohort_id);
DROP TABLE cohort_members;
ALTER TABLE cohort_members_old RENAME TO cohort_members;
CREATE INDEX cohort_members_person ON cohort_members (org_id, user_id, cohort_id);
