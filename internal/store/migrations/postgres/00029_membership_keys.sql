-- +goose Up
-- Memberships and cohort memberships keep no foreign keys to their person,
-- course and cohort, as the discussion's tables keep none: Roundtable
-- writes them with the ids it has just read or written, and deleting an
-- organisation deletes them itself (tenant.orgTables). The keys' checks
-- ran on every newcomer's launch, each a lookup of the parent row taken
-- with a lock. On a database without statistics, a connection that
-- planned the check while the course was small kept that plan: the
-- person was looked up through the (org_id, issuer, subject) index by
-- the organisation alone, reading every person of the organisation per
-- launch as the course grew.
ALTER TABLE memberships DROP CONSTRAINT IF EXISTS memberships_platform_id_course_id_fkey;
ALTER TABLE memberships DROP CONSTRAINT IF EXISTS memberships_platform_id_user_id_fkey;
ALTER TABLE cohort_members DROP CONSTRAINT IF EXISTS cohort_members_platform_id_cohort_id_fkey;
ALTER TABLE cohort_members DROP CONSTRAINT IF EXISTS cohort_members_platform_id_user_id_fkey;

-- +goose Down
DELETE FROM memberships m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = m.org_id AND u.id = m.user_id)
    OR NOT EXISTS (SELECT 1 FROM courses c WHERE c.org_id = m.org_id AND c.id = m.course_id);
DELETE FROM cohort_members m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.org_id = m.org_id AND u.id = m.user_id)
    OR NOT EXISTS (SELECT 1 FROM cohorts c WHERE c.org_id = m.org_id AND c.id = m.cohort_id);
ALTER TABLE memberships ADD CONSTRAINT memberships_platform_id_course_id_fkey
    FOREIGN KEY (org_id, course_id) REFERENCES courses (org_id, id) ON DELETE CASCADE;
ALTER TABLE memberships ADD CONSTRAINT memberships_platform_id_user_id_fkey
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE;
ALTER TABLE cohort_members ADD CONSTRAINT cohort_members_platform_id_cohort_id_fkey
    FOREIGN KEY (org_id, cohort_id) REFERENCES cohorts (org_id, id) ON DELETE CASCADE;
ALTER TABLE cohort_members ADD CONSTRAINT cohort_members_platform_id_user_id_fkey
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id) ON DELETE CASCADE;
