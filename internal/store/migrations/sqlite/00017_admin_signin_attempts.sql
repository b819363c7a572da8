-- +goose Up
-- Sign-in attempts to the admin console, counted per email address and per
-- client address so that a burst or a slow stream of guesses sent to any
-- replica checks no more passwords than the budget allows. subject_hash
-- is a SHA-256 of "email:" plus the lower-cased address typed, or "addr:" plus
-- the client address (an IPv6 /64), so what people type in the email field
-- is not kept. attempts counts attempts since the last success (an attempt
-- is counted before its password is checked); past the free ones each
-- further attempt must wait until next_attempt_at.
--
-- admin_users.failed_logins and locked_until (00003) are no longer read or
-- written; they stay until no running version uses them.
CREATE TABLE admin_signin_attempts (
    subject_hash    TEXT PRIMARY KEY,
    attempts        INTEGER NOT NULL,
    next_attempt_at DATETIME,
    last_attempt_at DATETIME NOT NULL
);
CREATE INDEX admin_signin_attempts_last ON admin_signin_attempts (last_attempt_at);

-- +goose Down
DROP TABLE admin_signin_attempts;
