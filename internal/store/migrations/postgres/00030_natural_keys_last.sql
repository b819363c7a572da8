-- +goose Up
-- A person and a cohort are looked up two ways: by their id within the
-- organisation (the primary key, org_id first) and by what the LMS calls
-- them (issuer and subject; course and cohort key). With both keys led by
-- org_id, Postgres without statistics costs the two alike on a small
-- table, took the wrong one, and a connection kept that plan as the table
-- grew: a lookup by id read every person of the organisation. The LMS's
-- names now lead their keys, org_id last, so each lookup has one index
-- that fits it.
ALTER TABLE users ADD CONSTRAINT users_issuer_subject_org_id_key UNIQUE (issuer, subject, org_id);
ALTER TABLE users DROP CONSTRAINT IF EXISTS users_org_id_issuer_subject_key;
ALTER TABLE cohorts ADD CONSTRAINT cohorts_course_id_cohort_key_org_id_key UNIQUE (course_id, cohort_key, org_id);
ALTER TABLE cohorts DROP CONSTRAINT IF EXISTS cohorts_platform_id_course_id_cohort_key_key;

-- +goose Down
ALTER TABLE users ADD CONSTRAINT users_org_id_issuer_subject_key UNIQUE (org_id, issuer, subject);
ALTER TABLE users DROP CONSTRAINT users_issuer_subject_org_id_key;
ALTER TABLE cohorts ADD CONSTRAINT cohorts_platform_id_course_id_cohort_key_key UNIQUE (org_id, course_id, cohort_key);
ALTER TABLE cohorts DROP CONSTRAINT cohorts_course_id_cohort_key_org_id_key;
