-- +goose Up
-- Registered LMS platforms: one row per (issuer, client_id).
CREATE TABLE platforms (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    issuer          TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    auth_url        TEXT NOT NULL,
    token_url       TEXT NOT NULL DEFAULT '',
    token_audience  TEXT NOT NULL DEFAULT '',
    jwks_url        TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'active',
    lms_family      TEXT NOT NULL DEFAULT '',
    last_launch_at  DATETIME,
    last_error      TEXT NOT NULL DEFAULT '',
    last_error_at   DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    UNIQUE (issuer, client_id)
);

CREATE TABLE deployments (
    platform_id     TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    deployment_id   TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (platform_id, deployment_id)
);

-- The tool's signing keys; private parts encrypted with ROUNDTABLE_SECRET.
CREATE TABLE tool_keys (
    kid             TEXT PRIMARY KEY,
    private_key     TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    retired_at      DATETIME
);

-- OIDC login states: single use, short-lived.
CREATE TABLE login_states (
    state           TEXT PRIMARY KEY,
    nonce           TEXT NOT NULL,
    platform_id     TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    browser_hash    TEXT NOT NULL,
    target_link_uri TEXT NOT NULL,
    storage_target  TEXT NOT NULL DEFAULT '',
    expires_at      DATETIME NOT NULL
);
CREATE INDEX login_states_expires ON login_states (expires_at);

CREATE TABLE users (
    platform_id     TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
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
    PRIMARY KEY (platform_id, id),
    UNIQUE (platform_id, subject)
);

-- Courses are LTI contexts; a launch without a context gets one keyed by
-- its resource link so that every activity still has a course.
CREATE TABLE courses (
    platform_id     TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    deployment_id   TEXT NOT NULL,
    context_key     TEXT NOT NULL,
    label           TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    PRIMARY KEY (platform_id, id),
    UNIQUE (platform_id, deployment_id, context_key)
);

CREATE TABLE memberships (
    platform_id     TEXT NOT NULL,
    course_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    roles           TEXT NOT NULL DEFAULT '',
    lti_roles       TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL DEFAULT 'active',
    last_launch_at  DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL,
    PRIMARY KEY (platform_id, course_id, user_id),
    FOREIGN KEY (platform_id, course_id) REFERENCES courses(platform_id, id) ON DELETE CASCADE,
    FOREIGN KEY (platform_id, user_id) REFERENCES users(platform_id, id) ON DELETE CASCADE
);

CREATE TABLE resource_links (
    platform_id      TEXT NOT NULL,
    id               TEXT NOT NULL,
    course_id        TEXT NOT NULL,
    deployment_id    TEXT NOT NULL,
    resource_link_id TEXT NOT NULL,
    title            TEXT NOT NULL DEFAULT '',
    description      TEXT NOT NULL DEFAULT '',
    custom           TEXT NOT NULL DEFAULT '{}',
    ags_lineitems    TEXT NOT NULL DEFAULT '',
    ags_lineitem     TEXT NOT NULL DEFAULT '',
    ags_scopes       TEXT NOT NULL DEFAULT '',
    nrps_url         TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL,
    PRIMARY KEY (platform_id, id),
    UNIQUE (platform_id, deployment_id, resource_link_id),
    FOREIGN KEY (platform_id, course_id) REFERENCES courses(platform_id, id) ON DELETE CASCADE
);

-- A course is split into one or more cohorts; for now each course has one.
CREATE TABLE cohorts (
    platform_id     TEXT NOT NULL,
    id              TEXT NOT NULL,
    course_id       TEXT NOT NULL,
    cohort_key      TEXT NOT NULL,
    name            TEXT NOT NULL DEFAULT '',
    -- Kept by the launch that adds a member, so pages need not count.
    member_count    INTEGER NOT NULL DEFAULT 0,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (platform_id, id),
    UNIQUE (platform_id, course_id, cohort_key),
    FOREIGN KEY (platform_id, course_id) REFERENCES courses(platform_id, id) ON DELETE CASCADE
);

CREATE TABLE cohort_members (
    platform_id     TEXT NOT NULL,
    cohort_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (platform_id, cohort_id, user_id),
    FOREIGN KEY (platform_id, cohort_id) REFERENCES cohorts(platform_id, id) ON DELETE CASCADE,
    FOREIGN KEY (platform_id, user_id) REFERENCES users(platform_id, id) ON DELETE CASCADE
);

-- Server-side sessions of launched users; id_hash is SHA-256 of the token.
CREATE TABLE sessions (
    id_hash          TEXT PRIMARY KEY,
    platform_id      TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    user_id          TEXT NOT NULL,
    course_id        TEXT NOT NULL,
    resource_link_id TEXT NOT NULL,
    cohort_id        TEXT NOT NULL,
    roles            TEXT NOT NULL DEFAULT '',
    created_at       DATETIME NOT NULL,
    expires_at       DATETIME NOT NULL
);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- +goose Down
DROP TABLE sessions;
DROP TABLE cohort_members;
DROP TABLE cohorts;
DROP TABLE resource_links;
DROP TABLE memberships;
DROP TABLE courses;
DROP TABLE users;
DROP TABLE login_states;
DROP TABLE tool_keys;
DROP TABLE deployments;
DROP TABLE platforms;
