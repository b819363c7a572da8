-- +goose Up
-- Accounts of the admin console: people who run Roundtable for their
-- organisation, not LMS users. Emails are stored lower-cased.
CREATE TABLE admin_users (
    id              TEXT PRIMARY KEY,
    email           TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    DATETIME,
    created_at      DATETIME NOT NULL,
    last_login_at   DATETIME
);

-- Console sessions; id_hash is SHA-256 of the secret in the rt_admin
-- cookie, csrf_token the value every form of the session must carry.
CREATE TABLE admin_sessions (
    id_hash         TEXT PRIMARY KEY,
    admin_id        TEXT NOT NULL REFERENCES admin_users(id) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    expires_at      DATETIME NOT NULL,
    last_seen_at    DATETIME NOT NULL
);
CREATE INDEX admin_sessions_admin ON admin_sessions (admin_id);
CREATE INDEX admin_sessions_expires ON admin_sessions (expires_at);

-- +goose Down
DROP TABLE admin_sessions;
DROP TABLE admin_users;
