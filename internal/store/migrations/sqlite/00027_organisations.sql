-- +goose Up
-- Organisations: the tenant is an organisation that holds one or more LMS
-- registrations (platforms). A person is one person per organisation,
-- known by the issuer and sub of LTI, whichever of its registrations they
-- come through; courses and activities are keyed as LTI says (issuer,
-- deployment, context or resource link) within it. The product's rows
-- carry org_id; what belongs to one registration (deployments, login
-- states, keys, deep-linking requests, placements) keeps platform_id.
-- Every existing registration becomes an organisation of its own with the
-- registration's id, so every existing row keeps its key.
CREATE TABLE organisations (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at DATETIME NOT NULL
);
INSERT INTO organisations (id, name, created_at) SELECT id, name, created_at FROM platforms;
-- The organisation a registration belongs to. Not a foreign key, as SQLite
-- adds none to a table without rebuilding it and the registration's own
-- rows hang on platforms: deleting an organisation deletes its
-- registrations first (tenant.DeleteOrganisation).
ALTER TABLE platforms ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
UPDATE platforms SET org_id = id;
CREATE INDEX platforms_org ON platforms (org_id);

-- The course model's tables are made anew: their foreign keys now lead to
-- the organisation, and SQLite changes a foreign key only by rebuilding.
-- The new tables are written first and the old ones dropped children
-- first, so no cascade reaches a row being kept; renaming a new table to
-- its final name carries the references of its children with it.
CREATE TABLE users_new (
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
INSERT INTO users_new (org_id, id, issuer, subject, name, given_name, family_name, email, picture, locale, pseudonym, created_at, updated_at)
    SELECT u.platform_id, u.id, p.issuer, u.subject, u.name, u.given_name, u.family_name, u.email, u.picture, u.locale, u.pseudonym, u.created_at, u.updated_at
    FROM users u JOIN platforms p ON p.id = u.platform_id;

-- platform_id is the registration that last launched the course: the one
-- whose services (NRPS) serve it.
CREATE TABLE courses_new (
    org_id          TEXT NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    deployment_id   TEXT NOT NULL,
    context_key     TEXT NOT NULL,
    platform_id     TEXT NOT NULL,
    label           TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, issuer, deployment_id, context_key)
);
INSERT INTO courses_new (org_id, id, issuer, deployment_id, context_key, platform_id, label, title, created_at, updated_at)
    SELECT c.platform_id, c.id, p.issuer, c.deployment_id, c.context_key, c.platform_id, c.label, c.title, c.created_at, c.updated_at
    FROM courses c JOIN platforms p ON p.id = c.platform_id;

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
    PRIMARY KEY (org_id, course_id, user_id),
    FOREIGN KEY (org_id, course_id) REFERENCES courses_new (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users_new (org_id, id) ON DELETE CASCADE
);
INSERT INTO memberships_new (org_id, course_id, user_id, roles, lti_roles, status, last_launch_at, created_at, updated_at, sections)
    SELECT platform_id, course_id, user_id, roles, lti_roles, status, last_launch_at, created_at, updated_at, sections FROM memberships;

-- platform_id is the registration that last launched the activity: the
-- one its grades (AGS) and roster (NRPS) are sent to and read from.
CREATE TABLE resource_links_new (
    org_id           TEXT NOT NULL,
    id               TEXT NOT NULL,
    course_id        TEXT NOT NULL,
    issuer           TEXT NOT NULL,
    deployment_id    TEXT NOT NULL,
    resource_link_id TEXT NOT NULL,
    platform_id      TEXT NOT NULL,
    title            TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    custom           TEXT NOT NULL DEFAULT '{}',
    ags_lineitems    TEXT NOT NULL DEFAULT '',
    ags_lineitem     TEXT NOT NULL DEFAULT '',
    ags_scopes       TEXT NOT NULL DEFAULT '',
    nrps_url         TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, issuer, deployment_id, resource_link_id),
    FOREIGN KEY (org_id, course_id) REFERENCES courses_new (org_id, id) ON DELETE CASCADE
);
INSERT INTO resource_links_new (org_id, id, course_id, issuer, deployment_id, resource_link_id, platform_id, title, description, custom,
        ags_lineitems, ags_lineitem, ags_scopes, nrps_url, created_at, updated_at)
    SELECT l.platform_id, l.id, l.course_id, p.issuer, l.deployment_id, l.resource_link_id, l.platform_id, l.title, l.description, l.custom,
        l.ags_lineitems, l.ags_lineitem, l.ags_scopes, l.nrps_url, l.created_at, l.updated_at
    FROM resource_links l JOIN platforms p ON p.id = l.platform_id;

CREATE TABLE cohorts_new (
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
    FOREIGN KEY (org_id, course_id) REFERENCES courses_new (org_id, id) ON DELETE CASCADE
);
INSERT INTO cohorts_new (org_id, id, course_id, cohort_key, name, member_count, created_at)
    SELECT platform_id, id, course_id, cohort_key, name, member_count, created_at FROM cohorts;

CREATE TABLE cohort_members_new (
    org_id          TEXT NOT NULL,
    cohort_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (org_id, cohort_id, user_id),
    FOREIGN KEY (org_id, cohort_id) REFERENCES cohorts_new (org_id, id) ON DELETE CASCADE,
    FOREIGN KEY (org_id, user_id) REFERENCES users_new (org_id, id) ON DELETE CASCADE
);
INSERT INTO cohort_members_new (org_id, cohort_id, user_id, created_at) SELECT platform_id, cohort_id, user_id, created_at FROM cohort_members;

CREATE TABLE grade_scores_new (
    org_id            TEXT NOT NULL,
    link_id           TEXT NOT NULL,
    user_id           TEXT NOT NULL,
    course_id         TEXT NOT NULL,
    score_given       REAL NOT NULL,
    score_maximum     REAL NOT NULL,
    activity_progress TEXT NOT NULL,
    grading_progress  TEXT NOT NULL,
    comment           TEXT NOT NULL DEFAULT '',
    scored_at         DATETIME NOT NULL,
    version           INTEGER NOT NULL DEFAULT 1,
    delivered_version INTEGER NOT NULL DEFAULT 0,
    -- pending | delivered | failed (dead letter, waiting for a person's retry)
    state             TEXT NOT NULL DEFAULT 'pending',
    attempts          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT NOT NULL DEFAULT '',
    last_attempt_at   DATETIME,
    delivered_at      DATETIME,
    updated_at        DATETIME NOT NULL,
    job_id            BIGINT NOT NULL DEFAULT 0,
    taken_at          DATETIME,
    retry_at          DATETIME,
    delivered_scored_at DATETIME,
    delivered_given   REAL,
    delivered_maximum REAL,
    delivered_activity TEXT,
    delivered_grading TEXT,
    delivered_comment TEXT,
    PRIMARY KEY (org_id, link_id, user_id),
    FOREIGN KEY (org_id, link_id) REFERENCES resource_links_new (org_id, id) ON DELETE CASCADE
);
INSERT INTO grade_scores_new (org_id, link_id, user_id, course_id, score_given, score_maximum, activity_progress, grading_progress, comment,
        scored_at, version, delivered_version, state, attempts, last_error, last_attempt_at, delivered_at, updated_at, job_id, taken_at, retry_at,
        delivered_scored_at, delivered_given, delivered_maximum, delivered_activity, delivered_grading, delivered_comment)
    SELECT platform_id, link_id, user_id, course_id, score_given, score_maximum, activity_progress, grading_progress, comment,
        scored_at, version, delivered_version, state, attempts, last_error, last_attempt_at, delivered_at, updated_at, job_id, taken_at, retry_at,
        delivered_scored_at, delivered_given, delivered_maximum, delivered_activity, delivered_grading, delivered_comment
    FROM grade_scores;

CREATE TABLE grade_line_items_new (
    org_id        TEXT NOT NULL,
    link_id       TEXT NOT NULL,
    url           TEXT NOT NULL,
    score_maximum REAL NOT NULL,
    created_at    DATETIME NOT NULL,
    PRIMARY KEY (org_id, link_id),
    FOREIGN KEY (org_id, link_id) REFERENCES resource_links_new (org_id, id) ON DELETE CASCADE
);
INSERT INTO grade_line_items_new (org_id, link_id, url, score_maximum, created_at)
    SELECT platform_id, link_id, url, score_maximum, created_at FROM grade_line_items;

CREATE TABLE roster_syncs_new (
    org_id        TEXT NOT NULL,
    course_id     TEXT NOT NULL,
    link_id       TEXT NOT NULL DEFAULT '',
    attempted_at  DATETIME NOT NULL,
    -- When the last sync that succeeded ended; NULL before the first.
    synced_at     DATETIME,
    -- The last success used rlid: the activity's own audience.
    scoped        BOOLEAN NOT NULL DEFAULT FALSE,
    -- The LMS refused rlid for this course: ask for the whole roster.
    rlid_refused  BOOLEAN NOT NULL DEFAULT FALSE,
    members       INTEGER NOT NULL DEFAULT 0,
    added         INTEGER NOT NULL DEFAULT 0,
    updated       INTEGER NOT NULL DEFAULT 0,
    deactivated   INTEGER NOT NULL DEFAULT 0,
    -- Why the last attempt failed; '' when it succeeded.
    error         TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (org_id, course_id, link_id),
    FOREIGN KEY (org_id, course_id) REFERENCES courses_new (org_id, id) ON DELETE CASCADE
);
INSERT INTO roster_syncs_new (org_id, course_id, link_id, attempted_at, synced_at, scoped, rlid_refused, members, added, updated, deactivated, error)
    SELECT platform_id, course_id, link_id, attempted_at, synced_at, scoped, rlid_refused, members, added, updated, deactivated, error FROM roster_syncs;

CREATE TABLE activity_settings_new (
    org_id          TEXT NOT NULL,
    link_id         TEXT NOT NULL,
    kind            TEXT NOT NULL DEFAULT 'discussion',
    instructions    TEXT NOT NULL DEFAULT '',
    -- course | section | groups
    cohort_policy   TEXT NOT NULL DEFAULT 'course',
    group_size      INTEGER NOT NULL DEFAULT 12,
    graded          BOOLEAN NOT NULL DEFAULT FALSE,
    points          INTEGER NOT NULL DEFAULT 10,
    configured      BOOLEAN NOT NULL DEFAULT FALSE,
    updated_by      TEXT NOT NULL DEFAULT '',
    updated_at      DATETIME NOT NULL,
    options         TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (org_id, link_id),
    FOREIGN KEY (org_id, link_id) REFERENCES resource_links_new (org_id, id) ON DELETE CASCADE
);
INSERT INTO activity_settings_new (org_id, link_id, kind, instructions, cohort_policy, group_size, graded, points, configured, updated_by, updated_at, options)
    SELECT platform_id, link_id, kind, instructions, cohort_policy, group_size, graded, points, configured, updated_by, updated_at, options FROM activity_settings;

DROP TABLE activity_settings;
DROP TABLE roster_syncs;
DROP TABLE grade_line_items;
DROP TABLE grade_scores;
DROP TABLE cohort_members;
DROP TABLE cohorts;
DROP TABLE resource_links;
DROP TABLE memberships;
DROP TABLE courses;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
ALTER TABLE courses_new RENAME TO courses;
ALTER TABLE memberships_new RENAME TO memberships;
ALTER TABLE resource_links_new RENAME TO resource_links;
ALTER TABLE cohorts_new RENAME TO cohorts;
ALTER TABLE cohort_members_new RENAME TO cohort_members;
ALTER TABLE grade_scores_new RENAME TO grade_scores;
ALTER TABLE grade_line_items_new RENAME TO grade_line_items;
ALTER TABLE roster_syncs_new RENAME TO roster_syncs;
ALTER TABLE activity_settings_new RENAME TO activity_settings;
CREATE INDEX memberships_person ON memberships (org_id, user_id, course_id);
CREATE INDEX cohort_members_person ON cohort_members (org_id, user_id, cohort_id);
CREATE INDEX grade_scores_course_state ON grade_scores (org_id, course_id, state);
CREATE INDEX grade_scores_state ON grade_scores (state, updated_at);
CREATE INDEX roster_syncs_due ON roster_syncs (link_id, attempted_at);

-- The discussion's rows and the rest of the product's are renamed in
-- place (their indexes, the search view and triggers follow).
ALTER TABLE threads RENAME COLUMN platform_id TO org_id;
ALTER TABLE thread_tags RENAME COLUMN platform_id TO org_id;
ALTER TABLE posts RENAME COLUMN platform_id TO org_id;
ALTER TABLE post_revisions RENAME COLUMN platform_id TO org_id;
ALTER TABLE post_votes RENAME COLUMN platform_id TO org_id;
ALTER TABLE thread_follows RENAME COLUMN platform_id TO org_id;
ALTER TABLE thread_visits RENAME COLUMN platform_id TO org_id;
ALTER TABLE participation_events RENAME COLUMN platform_id TO org_id;
ALTER TABLE post_search_ids RENAME COLUMN platform_id TO org_id;
ALTER TABLE post_flags RENAME COLUMN platform_id TO org_id;
ALTER TABLE course_suspensions RENAME COLUMN platform_id TO org_id;
ALTER TABLE moderation_log RENAME COLUMN platform_id TO org_id;
ALTER TABLE notifications RENAME COLUMN platform_id TO org_id;
ALTER TABLE roster_link_members RENAME COLUMN platform_id TO org_id;
ALTER TABLE grade_rescores RENAME COLUMN platform_id TO org_id;
ALTER TABLE spaces RENAME COLUMN platform_id TO org_id;

-- A session knows the registration it came through (its services, frame
-- origins and status) and the organisation its person belongs to.
DROP TRIGGER sessions_link_opened;
ALTER TABLE link_openings RENAME COLUMN platform_id TO org_id;
ALTER TABLE sessions ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
UPDATE sessions SET org_id = platform_id;
-- +goose StatementBegin
CREATE TRIGGER sessions_link_opened AFTER INSERT ON sessions
BEGIN
    INSERT INTO link_openings (org_id, link_id, user_id, first_opened_at, last_opened_at)
    VALUES (NEW.org_id, NEW.resource_link_id, NEW.user_id, NEW.created_at, NEW.created_at)
    ON CONFLICT (org_id, link_id, user_id) DO UPDATE SET last_opened_at = excluded.last_opened_at;
END;
-- +goose StatementEnd

-- A person's notifications across every space, newest first (email and
-- digests read them by person).
CREATE INDEX notifications_person ON notifications (org_id, user_id, id);

-- +goose Down
SELECT 'migration 00027 (organisations) cannot be undone: restore a backup taken before it';
