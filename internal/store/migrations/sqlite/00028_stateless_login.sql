-- +goose Up
-- A login stores nothing: the OIDC state the platform carries back is the
-- login state itself, signed by the server (session.NewLoginState). A
-- launch spends it by recording its id here, in the statement or
-- transaction that opens its session; the id's unique key refuses a
-- replay. Rows are forgotten once their state has expired.
CREATE TABLE used_login_states (
    id         TEXT PRIMARY KEY,
    expires_at DATETIME NOT NULL
);
CREATE INDEX used_login_states_expires ON used_login_states (expires_at);
-- Logins under way when this runs find their state unknown: the person
-- opens the activity again.
DROP TABLE login_states;

-- +goose Down
CREATE TABLE login_states (
    state           TEXT PRIMARY KEY,
    nonce           TEXT NOT NULL,
    platform_id     TEXT NOT NULL REFERENCES platforms(id) ON DELETE CASCADE,
    browser_hash    TEXT NOT NULL,
    target_link_uri TEXT NOT NULL,
    storage_target  TEXT NOT NULL DEFAULT '',
    expires_at      DATETIME NOT NULL
);
CREATE INDEX login_states_expires ON login_states (expires_at);
CREATE INDEX login_states_platform ON login_states (platform_id, expires_at);
DROP TABLE used_login_states;
