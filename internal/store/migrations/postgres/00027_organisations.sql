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
    created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO organisations (id, name, created_at) SELECT id, name, created_at FROM platforms;
-- The organisation a registration belongs to. Not a foreign key, as on
-- SQLite (which adds none without rebuilding the table): deleting an
-- organisation deletes its registrations first (tenant.DeleteOrganisation).
ALTER TABLE platforms ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
UPDATE platforms SET org_id = id;
CREATE INDEX platforms_org ON platforms (org_id);

ALTER TABLE users RENAME COLUMN platform_id TO org_id;
ALTER TABLE courses RENAME COLUMN platform_id TO org_id;
ALTER TABLE memberships RENAME COLUMN platform_id TO org_id;
ALTER TABLE resource_links RENAME COLUMN platform_id TO org_id;
ALTER TABLE cohorts RENAME COLUMN platform_id TO org_id;
ALTER TABLE cohort_members RENAME COLUMN platform_id TO org_id;
ALTER TABLE grade_scores RENAME COLUMN platform_id TO org_id;
ALTER TABLE grade_line_items RENAME COLUMN platform_id TO org_id;
ALTER TABLE roster_syncs RENAME COLUMN platform_id TO org_id;
ALTER TABLE activity_settings RENAME COLUMN platform_id TO org_id;
ALTER TABLE threads RENAME COLUMN platform_id TO org_id;
ALTER TABLE thread_tags RENAME COLUMN platform_id TO org_id;
ALTER TABLE posts RENAME COLUMN platform_id TO org_id;
ALTER TABLE post_revisions RENAME COLUMN platform_id TO org_id;
ALTER TABLE post_votes RENAME COLUMN platform_id TO org_id;
ALTER TABLE thread_follows RENAME COLUMN platform_id TO org_id;
ALTER TABLE thread_visits RENAME COLUMN platform_id TO org_id;
ALTER TABLE participation_events RENAME COLUMN platform_id TO org_id;
ALTER TABLE post_flags RENAME COLUMN platform_id TO org_id;
ALTER TABLE course_suspensions RENAME COLUMN platform_id TO org_id;
ALTER TABLE moderation_log RENAME COLUMN platform_id TO org_id;
ALTER TABLE notifications RENAME COLUMN platform_id TO org_id;
ALTER TABLE roster_link_members RENAME COLUMN platform_id TO org_id;
ALTER TABLE link_openings RENAME COLUMN platform_id TO org_id;
ALTER TABLE grade_rescores RENAME COLUMN platform_id TO org_id;
ALTER TABLE spaces RENAME COLUMN platform_id TO org_id;

-- People and courses belong to the organisation, not to one registration:
-- deleting a registration keeps them, deleting the organisation does not.
ALTER TABLE users DROP CONSTRAINT users_platform_id_fkey;
ALTER TABLE users ADD CONSTRAINT users_org_id_fkey FOREIGN KEY (org_id) REFERENCES organisations (id) ON DELETE CASCADE;
ALTER TABLE courses DROP CONSTRAINT courses_platform_id_fkey;
ALTER TABLE courses ADD CONSTRAINT courses_org_id_fkey FOREIGN KEY (org_id) REFERENCES organisations (id) ON DELETE CASCADE;

-- A person is known by issuer and sub within the organisation; courses and
-- activities by issuer, deployment and their LTI id. platform_id is the
-- registration that last launched a course or activity: the one whose
-- services (AGS, NRPS) serve it.
ALTER TABLE users ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
UPDATE users SET issuer = p.issuer FROM platforms p WHERE p.id = users.org_id;
ALTER TABLE users ALTER COLUMN issuer DROP DEFAULT;
ALTER TABLE users DROP CONSTRAINT users_platform_id_subject_key;
ALTER TABLE users ADD CONSTRAINT users_org_id_issuer_subject_key UNIQUE (org_id, issuer, subject);

ALTER TABLE courses ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE courses ADD COLUMN platform_id TEXT NOT NULL DEFAULT '';
UPDATE courses SET issuer = p.issuer, platform_id = p.id FROM platforms p WHERE p.id = courses.org_id;
ALTER TABLE courses ALTER COLUMN issuer DROP DEFAULT;
ALTER TABLE courses ALTER COLUMN platform_id DROP DEFAULT;
ALTER TABLE courses DROP CONSTRAINT courses_platform_id_deployment_id_context_key_key;
ALTER TABLE courses ADD CONSTRAINT courses_org_id_issuer_deployment_id_context_key_key UNIQUE (org_id, issuer, deployment_id, context_key);

ALTER TABLE resource_links ADD COLUMN issuer TEXT NOT NULL DEFAULT '';
ALTER TABLE resource_links ADD COLUMN platform_id TEXT NOT NULL DEFAULT '';
UPDATE resource_links SET issuer = p.issuer, platform_id = p.id FROM platforms p WHERE p.id = resource_links.org_id;
ALTER TABLE resource_links ALTER COLUMN issuer DROP DEFAULT;
ALTER TABLE resource_links ALTER COLUMN platform_id DROP DEFAULT;
ALTER TABLE resource_links DROP CONSTRAINT resource_links_platform_id_deployment_id_resource_link_id_key;
ALTER TABLE resource_links ADD CONSTRAINT resource_links_org_id_issuer_deployment_id_resource_link_id_key
    UNIQUE (org_id, issuer, deployment_id, resource_link_id);

-- The search triggers and the opening of a link name the renamed column.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION posts_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := setweight(to_tsvector('simple', translate(CASE WHEN NEW.opening THEN
            COALESCE((SELECT title FROM threads WHERE org_id = NEW.org_id AND id = NEW.thread_id), '') ELSE '' END, '<>', U&'\E002\E003')), 'A')
        || setweight(to_tsvector('simple', translate(NEW.body, '<>', U&'\E002\E003')), 'B');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION threads_search_title() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE posts SET body = body WHERE org_id = NEW.org_id AND id = NEW.opening_post_id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A session knows the registration it came through (its services, frame
-- origins and status) and the organisation its person belongs to.
ALTER TABLE sessions ADD COLUMN org_id TEXT NOT NULL DEFAULT '';
UPDATE sessions SET org_id = platform_id;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION sessions_link_opened() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO link_openings (org_id, link_id, user_id, first_opened_at, last_opened_at)
    VALUES (NEW.org_id, NEW.resource_link_id, NEW.user_id, NEW.created_at, NEW.created_at)
    ON CONFLICT (org_id, link_id, user_id) DO UPDATE SET last_opened_at = excluded.last_opened_at;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- A person's notifications across every space, newest first (email and
-- digests read them by person).
CREATE INDEX notifications_person ON notifications (org_id, user_id, id);

-- +goose Down
SELECT 'migration 00027 (organisations) cannot be undone: restore a backup taken before it';
