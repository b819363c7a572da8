-- +goose Up
-- In-app notifications: one row per recipient, written in the transaction
-- of the action (a reply, a mention, an answer, an accepted answer). The
-- actor's id is kept with whether they posted anonymously, so a learner's
-- list can say "Anonymous learner" while staff see the name.
CREATE TABLE notifications (
    platform_id TEXT NOT NULL,
    id          TEXT NOT NULL,
    cohort_id   TEXT NOT NULL,
    link_id     TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor_id    TEXT NOT NULL,
    anonymous   BOOLEAN NOT NULL DEFAULT FALSE,
    thread_id   TEXT NOT NULL,
    post_id     TEXT NOT NULL,
    seen_at     DATETIME,
    created_at  DATETIME NOT NULL,
    PRIMARY KEY (platform_id, id)
);
CREATE INDEX notifications_recipient ON notifications (platform_id, cohort_id, link_id, user_id, id);

-- +goose Down
DROP TABLE notifications;
