-- +goose Up
-- Course rosters read from the LMS (LTI Names and Role Provisioning
-- Services). People the roster adds before their first launch get a
-- membership with status 'not_yet_active' and no last_launch_at; the LMS's
-- Inactive members, and those gone from a full roster, become 'inactive'.
-- Nobody is deleted: their posts stay.

-- The outcome of the last roster sync of a course (link_id '') or of one
-- activity's roster scoped to its resource link (rlid).
CREATE TABLE roster_syncs (
    platform_id   TEXT NOT NULL,
    course_id     TEXT NOT NULL,
    link_id       TEXT NOT NULL DEFAULT '',
    attempted_at  TIMESTAMPTZ NOT NULL,
    -- When the last sync that succeeded ended; NULL before the first.
    synced_at     TIMESTAMPTZ,
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
    PRIMARY KEY (platform_id, course_id, link_id),
    FOREIGN KEY (platform_id, course_id) REFERENCES courses(platform_id, id) ON DELETE CASCADE
);
CREATE INDEX roster_syncs_due ON roster_syncs (link_id, attempted_at);

-- Who the LMS says can see an activity, from its last scoped roster.
CREATE TABLE roster_link_members (
    platform_id  TEXT NOT NULL,
    link_id      TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    PRIMARY KEY (platform_id, link_id, user_id)
);

-- Who has opened each activity, and when first and last. A session is
-- opened by a launch and by nothing else, so a trigger on sessions keeps
-- this without touching the launch's statements. No foreign keys: a
-- session's row must never fail on this bookkeeping.
CREATE TABLE link_openings (
    platform_id     TEXT NOT NULL,
    link_id         TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    first_opened_at TIMESTAMPTZ NOT NULL,
    last_opened_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform_id, link_id, user_id)
);

-- +goose StatementBegin
CREATE FUNCTION sessions_link_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_openings (platform_id, link_id, user_id, first_opened_at, last_opened_at)
    VALUES (NEW.platform_id, NEW.resource_link_id, NEW.user_id, NEW.created_at, NEW.created_at)
    ON CONFLICT (platform_id, link_id, user_id) DO UPDATE SET last_opened_at = excluded.last_opened_at;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER sessions_link_opened AFTER INSERT ON sessions
    FOR EACH ROW EXECUTE FUNCTION sessions_link_opened();

-- What is known of earlier openings: open sessions, and anyone who took
-- part in an activity's discussion.
INSERT INTO link_openings (platform_id, link_id, user_id, first_opened_at, last_opened_at)
SELECT platform_id, link_id, user_id, MIN(at), MAX(at) FROM (
    SELECT platform_id, resource_link_id AS link_id, user_id, created_at AS at FROM sessions
    UNION ALL
    SELECT platform_id, link_id, user_id, created_at AS at FROM participation_events
) seen GROUP BY platform_id, link_id, user_id;

-- +goose Down
DROP TRIGGER sessions_link_opened ON sessions;
DROP FUNCTION sessions_link_opened();
DROP TABLE link_openings;
DROP TABLE roster_link_members;
DROP TABLE roster_syncs;
