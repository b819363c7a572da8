-- +goose Up
-- An activity an instructor placed in the LMS through deep linking, with
-- the settings they chose. The LMS's new link names it in its custom
-- parameters (rt_placement); the link's first launch takes these settings
-- (a copied course's link names the same placement and takes them too).
CREATE TABLE placements (
    platform_id     TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    id              TEXT NOT NULL,
    -- The course it was placed from: the LMS's deployment and context id.
    deployment_id   TEXT NOT NULL,
    context_key     TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL,
    kind            TEXT NOT NULL,
    instructions    TEXT NOT NULL DEFAULT '',
    cohort_policy   TEXT NOT NULL,
    group_size      INTEGER NOT NULL,
    allow_anonymous BOOLEAN NOT NULL,
    post_first      BOOLEAN NOT NULL,
    graded          BOOLEAN NOT NULL,
    points          INTEGER NOT NULL,
    min_threads     INTEGER NOT NULL,
    min_replies     INTEGER NOT NULL,
    min_accepted    INTEGER NOT NULL,
    min_upvotes     INTEGER NOT NULL,
    credit          TEXT NOT NULL,
    -- The LMS user id (sub) of the staff member who placed it.
    created_by      TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    PRIMARY KEY (platform_id, id)
);

-- A deep linking request being answered: what the LMS asked for, kept on
-- the server so the page that chooses the activity cannot change it. The
-- browser holds only a secret whose hash is the key. Single use.
CREATE TABLE deep_link_requests (
    id_hash         TEXT PRIMARY KEY,
    platform_id     TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    deployment_id   TEXT NOT NULL,
    context_key     TEXT NOT NULL DEFAULT '',
    context_title   TEXT NOT NULL DEFAULT '',
    subject         TEXT NOT NULL,
    user_name       TEXT NOT NULL DEFAULT '',
    return_url      TEXT NOT NULL,
    data            TEXT NOT NULL DEFAULT '',
    -- Space-separated lists, as the LMS sent them.
    accept_types    TEXT NOT NULL DEFAULT '',
    accept_targets  TEXT NOT NULL DEFAULT '',
    accept_multiple BOOLEAN NOT NULL DEFAULT FALSE,
    accept_lineitem BOOLEAN NOT NULL DEFAULT FALSE,
    auto_create     BOOLEAN NOT NULL DEFAULT FALSE,
    title           TEXT NOT NULL DEFAULT '',
    text            TEXT NOT NULL DEFAULT '',
    -- Placements chosen so far (space-separated ids), when the LMS takes several.
    placed          TEXT NOT NULL DEFAULT '',
    created_at      DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL
);
CREATE INDEX deep_link_requests_expiry ON deep_link_requests (expires_at);

-- +goose Down
DROP TABLE deep_link_requests;
DROP TABLE placements;
