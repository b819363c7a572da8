-- +goose Up
-- Live events: what changed in a topic (a cohort's discussion), kept a day
-- so a browser that reconnects with Last-Event-ID misses nothing. Every
-- replica reads new rows here when pg_notify('roundtable_live') says a
-- topic moved; the notification carries only "topic:id".
CREATE TABLE live_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic       TEXT NOT NULL,
    type        TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX live_events_topic_id ON live_events (topic, id);
CREATE INDEX live_events_created_at ON live_events (created_at);

-- +goose Down
DROP TABLE live_events;
