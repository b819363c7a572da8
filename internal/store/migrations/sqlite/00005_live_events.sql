-- +goose Up
-- Live events: what changed in a topic (a cohort's discussion), kept a day
-- so a browser that reconnects with Last-Event-ID misses nothing.
-- AUTOINCREMENT: ids never go back, even after the newest rows are pruned.
CREATE TABLE live_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    topic       TEXT NOT NULL,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  DATETIME NOT NULL
);
CREATE INDEX live_events_topic_id ON live_events (topic, id);
CREATE INDEX live_events_created_at ON live_events (created_at);

-- +goose Down
DROP TABLE live_events;
