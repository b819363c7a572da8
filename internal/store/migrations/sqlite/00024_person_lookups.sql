-- +goose Up
-- A launch reads one person's membership and cohort membership. These
-- indexes lead with the person, so that every lookup keyed by the person
-- reads that person's few rows whatever the planner knows of the tables:
-- on a database without fresh statistics the primary keys, which lead
-- with the course and the cohort, let it scan a whole course.
CREATE INDEX memberships_person ON memberships (platform_id, user_id, course_id);
CREATE INDEX cohort_members_person ON cohort_members (platform_id, user_id, cohort_id);

-- +goose Down
DROP INDEX cohort_members_person;
DROP INDEX memberships_person;
