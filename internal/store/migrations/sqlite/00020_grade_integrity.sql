-- +goose Up
-- job_id: River's job that waits to deliver this score (0: none). A
-- change queues a job only when that one no longer waits (it runs, or is
-- done), so a burst of changes leaves one waiting job that sends the
-- newest score, and one learner's burst never multiplies the LMS calls or
-- the attempts of anyone's score. taken_at: when a delivery last started.
ALTER TABLE grade_scores ADD COLUMN job_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE grade_scores ADD COLUMN taken_at DATETIME;
-- After a failed try, when the score may be tried again: every job that
-- finds it earlier waits, so its tries keep their backoff however many
-- jobs a burst of changes made.
ALTER TABLE grade_scores ADD COLUMN retry_at DATETIME;
-- What the LMS holds, as last sent with success (NULL: not known), and
-- its AGS timestamp, so a score that comes back to it is not sent again.
ALTER TABLE grade_scores ADD COLUMN delivered_scored_at DATETIME;
ALTER TABLE grade_scores ADD COLUMN delivered_given REAL;
ALTER TABLE grade_scores ADD COLUMN delivered_maximum REAL;
ALTER TABLE grade_scores ADD COLUMN delivered_activity TEXT;
ALTER TABLE grade_scores ADD COLUMN delivered_grading TEXT;
ALTER TABLE grade_scores ADD COLUMN delivered_comment TEXT;
-- state gains 'held': the score waits while its LMS is disabled (or not
-- yet approved) in Roundtable, and goes out once it is active again.

UPDATE grade_scores SET delivered_given = score_given, delivered_maximum = score_maximum, delivered_activity = activity_progress,
    delivered_grading = grading_progress, delivered_comment = comment, delivered_scored_at = scored_at
    WHERE state = 'delivered';

-- Learners to score again once: their score may have counted what no
-- longer counts (posts moderators hid, posts of hidden threads, an
-- answer they accepted on their own question). Delivery drains it.
CREATE TABLE grade_rescores (
    platform_id TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    PRIMARY KEY (platform_id, link_id, user_id)
);
INSERT INTO grade_rescores (platform_id, link_id, user_id)
SELECT DISTINCT g.platform_id, g.link_id, g.user_id
FROM grade_scores g
JOIN posts p ON p.platform_id = g.platform_id AND p.link_id = g.link_id AND p.author_id = g.user_id
JOIN threads t ON t.platform_id = p.platform_id AND t.id = p.thread_id
WHERE p.hidden OR t.hidden OR (t.accepted_post_id = p.id AND t.author_id = p.author_id);

-- +goose Down
DROP TABLE grade_rescores;
UPDATE grade_scores SET state = 'pending' WHERE state = 'held';
ALTER TABLE grade_scores DROP COLUMN delivered_comment;
ALTER TABLE grade_scores DROP COLUMN delivered_grading;
ALTER TABLE grade_scores DROP COLUMN delivered_activity;
ALTER TABLE grade_scores DROP COLUMN delivered_maximum;
ALTER TABLE grade_scores DROP COLUMN delivered_given;
ALTER TABLE grade_scores DROP COLUMN delivered_scored_at;
ALTER TABLE grade_scores DROP COLUMN retry_at;
ALTER TABLE grade_scores DROP COLUMN taken_at;
ALTER TABLE grade_scores DROP COLUMN job_id;
